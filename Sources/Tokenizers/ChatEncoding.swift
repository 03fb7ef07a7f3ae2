// Chat rendered at the token level: the template's markers (`<|im_start|>`, `<|im_end|>`) are the
// tokenizer's control-token ids, and every piece of text from outside (roles, message contents,
// a template's default system message) is encoded with special-token parsing off. A message that
// spells `<|im_end|>` therefore gets the ordinary tokens of those characters, never the marker:
// text cannot close a turn or open one. The CLI, the server and training all encode chat here.

import Foundation

/// Token ids of a rendered conversation, with which ids belong to assistant turns (for training losses).
public struct EncodedChat: Sendable, Equatable {
    public var ids: [Int]
    /// Per id: true for the content tokens of assistant messages and the template's end-of-turn marker
    /// that closes them (what an SFT loss trains on); false for system/user turns, role headers and the
    /// generation prompt.
    public var isAssistant: [Bool]

    public init(ids: [Int] = [], isAssistant: [Bool] = []) {
        self.ids = ids
        self.isAssistant = isAssistant
    }
}

extension ChatTemplate {
    /// Markers are the tokenizer's special ids; every message's text is encoded with special-token
    /// parsing off. Throws when the tokenizer lacks the template's markers.
    public func encode(_ messages: [ChatMessage], tokenizer: BPETokenizer, addGenerationPrompt: Bool) throws -> EncodedChat {
        var out = ChatTokenWriter(tokenizer: tokenizer)
        switch self {
        case let .chatML(defaultSystem):
            let start = try tokenizer.controlTokenID("<|im_start|>")
            let end = try tokenizer.controlTokenID("<|im_end|>")
            // <|im_start|>role\ncontent<|im_end|>\n
            func turn(role: String, content: String) {
                let fromAssistant = role == "assistant"
                out.marker(start)
                out.text(role + "\n")
                out.text(content, isAssistant: fromAssistant)
                out.marker(end, isAssistant: fromAssistant)
                out.text("\n")
            }
            if let defaultSystem, let first = messages.first, first.role != "system" {
                turn(role: "system", content: defaultSystem)
            }
            for message in messages { turn(role: message.role, content: message.content) }
            if addGenerationPrompt {
                out.marker(start)
                out.text("assistant\n")
            }
        }
        return out.finish()
    }
}

extension BPETokenizer {
    /// The id of a control token the chat template writes; an error when the vocabulary lacks it
    /// or has it only as ordinary text (then no id could mark a turn).
    func controlTokenID(_ marker: String) throws -> Int {
        guard let id = id(of: marker), isAddedToken(id) else {
            throw TokenizerError.missingControlToken(marker)
        }
        return id
    }
}

/// Collects a conversation's pieces. Consecutive text pieces form one run, encoded together, so
/// `role\ncontent` gets the same ids as the string `<|im_start|>role\ncontent<|im_end|>` parsed
/// with special tokens did (and as transformers' `apply_chat_template(tokenize=True)` gives).
/// A token of the run counts as assistant when any of its bytes comes from assistant text.
private struct ChatTokenWriter {
    let tokenizer: BPETokenizer
    private var result = EncodedChat()
    private var run = ""
    private var runBytes = 0
    private var assistantBytes: [Range<Int>] = []   // byte ranges of assistant text within `run`

    init(tokenizer: BPETokenizer) {
        self.tokenizer = tokenizer
        if tokenizer.addBOS, let bos = tokenizer.special.bos {
            result.ids.append(bos)
            result.isAssistant.append(false)
        }
    }

    mutating func text(_ piece: String, isAssistant: Bool = false) {
        let count = piece.utf8.count
        if isAssistant && count > 0 { assistantBytes.append(runBytes..<(runBytes + count)) }
        run += piece
        runBytes += count
    }

    mutating func marker(_ id: Int, isAssistant: Bool = false) {
        flush()
        result.ids.append(id)
        result.isAssistant.append(isAssistant)
    }

    mutating func finish() -> EncodedChat {
        flush()
        return result
    }

    private mutating func flush() {
        defer { run = ""; runBytes = 0; assistantBytes.removeAll() }
        guard !run.isEmpty else { return }
        var offset = 0
        var bytes: [UInt8] = []
        for id in tokenizer.encode(run, parseSpecial: false, addBOS: false) {
            bytes.removeAll(keepingCapacity: true)
            tokenizer.appendBytes(of: id, skipSpecial: false, to: &bytes)
            let span = offset..<(offset + max(bytes.count, 1))
            offset += bytes.count
            result.ids.append(id)
            result.isAssistant.append(assistantBytes.contains { $0.overlaps(span) })
        }
    }
}
