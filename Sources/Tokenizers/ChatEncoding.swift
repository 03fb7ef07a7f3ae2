// A conversation rendered with the chat template at the token level, with each token marked as
// the assistant's or not (for training on assistant tokens only). The markers are their special
// ids; message text is encoded with parseSpecial false, so text that looks like a marker stays text.
// (Minimal form; the tokenizer's owner provides the full one with this same API.)

public struct EncodedChat: Sendable, Equatable {
    public var ids: [Int]
    /// True on the assistant's content tokens and the `<|im_end|>` that closes each of its turns.
    public var isAssistant: [Bool]

    public init(ids: [Int], isAssistant: [Bool]) {
        self.ids = ids
        self.isAssistant = isAssistant
    }
}

extension ChatTemplate {
    public func encode(_ messages: [ChatMessage], tokenizer: BPETokenizer, addGenerationPrompt: Bool) throws -> EncodedChat {
        switch self {
        case let .chatML(defaultSystem):
            guard let start = tokenizer.id(of: "<|im_start|>"), let end = tokenizer.id(of: "<|im_end|>") else {
                throw TokenizerError.missingField(path: "tokenizer", field: "<|im_start|> / <|im_end|> (the ChatML markers)")
            }
            var out = EncodedChat(ids: [], isAssistant: [])
            func append(_ ids: [Int], assistant: Bool) {
                out.ids += ids
                out.isAssistant += [Bool](repeating: assistant, count: ids.count)
            }
            if tokenizer.addBOS, let bos = tokenizer.special.bos { append([bos], assistant: false) }
            var all = messages
            if let defaultSystem, let first = messages.first, first.role != "system" {
                all.insert(ChatMessage(role: "system", content: defaultSystem), at: 0)
            }
            for m in all {
                let assistant = m.role == "assistant"
                append([start] + tokenizer.encode(m.role + "\n", parseSpecial: false, addBOS: false), assistant: false)
                append(tokenizer.encode(m.content, parseSpecial: false, addBOS: false) + [end], assistant: assistant)
                append(tokenizer.encode("\n", parseSpecial: false, addBOS: false), assistant: false)
            }
            if addGenerationPrompt {
                append([start] + tokenizer.encode("assistant\n", parseSpecial: false, addBOS: false), assistant: false)
            }
            return out
        }
    }
}
