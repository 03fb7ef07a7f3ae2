// Supervised fine-tuning data: conversations in the formats LLaMA-Factory and TRL users bring,
// detected from the first record and checked on every record.
//   alpaca             {"instruction", "input"?, "output", "system"?, "history"?: [[user, assistant], …]}
//   messages           {"messages": [{"role", "content"}, …]}
//   sharegpt           {"conversations": [{"from": "human|gpt|system", "value"}, …]}
//   prompt-completion  {"prompt", "completion"}
// Each becomes a list of chat messages; the model's chat template then renders it token by token.

import Foundation
import Tokenizers

public enum ChatDataFormat: String, Sendable, CaseIterable {
    case alpaca, messages, sharegpt, promptCompletion = "prompt-completion"
    /// {"text", "label"} (JSONL, or CSV rows text,label): trained as the label's completion.
    case classification

    static func detect(_ record: DataRecord) throws -> ChatDataFormat {
        let o = record.object
        if o["messages"] != nil { return .messages }
        if o["conversations"] != nil { return .sharegpt }
        if o["instruction"] != nil || o["output"] != nil { return .alpaca }
        if o["prompt"] != nil || o["completion"] != nil { return .promptCompletion }
        if o["text"] != nil && o["label"] != nil { return .classification }
        throw TrainingError.data("\(record.location): cannot tell the format from fields \(o.keys.sorted()) (expected instruction/output (alpaca), messages, conversations (sharegpt), prompt/completion or text/label)")
    }
}

enum ChatRecords {
    /// The conversation of one record in `format`.
    static func messages(_ r: DataRecord, format: ChatDataFormat) throws -> [ChatMessage] {
        switch format {
        case .alpaca:
            var out: [ChatMessage] = []
            if let system = try r.optionalString("system"), !system.isEmpty { out.append(ChatMessage(role: "system", content: system)) }
            if let history = r.object["history"], !(history is NSNull) {
                guard let turns = history as? [Any] else { throw r.fail("history", "must be a list of [instruction, response] pairs") }
                for (i, turn) in turns.enumerated() {
                    guard let pair = turn as? [Any], pair.count == 2, let q = pair[0] as? String, let a = pair[1] as? String else {
                        throw r.fail("history[\(i)]", "must be a pair of strings [instruction, response]")
                    }
                    out += [ChatMessage(role: "user", content: q), ChatMessage(role: "assistant", content: a)]
                }
            }
            let instruction = try r.string("instruction")
            let input = try r.optionalString("input") ?? ""
            out.append(ChatMessage(role: "user", content: input.isEmpty ? instruction : instruction + "\n" + input))
            out.append(ChatMessage(role: "assistant", content: try r.string("output")))
            return out
        case .messages:
            return try roleList(r, field: "messages", roleKey: "role", textKey: "content")
        case .sharegpt:
            return try roleList(r, field: "conversations", roleKey: "from", textKey: "value")
        case .promptCompletion:
            return [ChatMessage(role: "user", content: try r.string("prompt")),
                    ChatMessage(role: "assistant", content: try r.string("completion"))]
        case .classification:
            return [ChatMessage(role: "user", content: try r.string("text")),
                    ChatMessage(role: "assistant", content: try ClassificationData.label(r))]
        }
    }

    /// A list of {role, text} objects; sharegpt's human/gpt become user/assistant. Must hold at
    /// least one assistant message.
    static func roleList(_ r: DataRecord, field: String, roleKey: String, textKey: String) throws -> [ChatMessage] {
        guard let list = r.object[field] else { throw r.fail(field, "is missing") }
        let out = try messageList(list, r, field: field, roleKey: roleKey, textKey: textKey)
        guard out.contains(where: { $0.role == "assistant" }) else { throw r.fail(field, "has no assistant (gpt) message to learn") }
        return out
    }

    static func messageList(_ list: Any, _ r: DataRecord, field: String, roleKey: String = "role", textKey: String = "content") throws -> [ChatMessage] {
        guard let items = list as? [Any], !items.isEmpty else { throw r.fail(field, "must be a non-empty list of messages") }
        return try items.enumerated().map { i, item in try message(item, r, field: "\(field)[\(i)]", roleKey: roleKey, textKey: textKey) }
    }

    static func message(_ item: Any, _ r: DataRecord, field: String, roleKey: String = "role", textKey: String = "content") throws -> ChatMessage {
        guard let m = item as? [String: Any] else { throw r.fail(field, "must be an object") }
        let roleValue = m[roleKey] ?? m["role"] ?? m["from"]
        let textValue = m[textKey] ?? m["content"] ?? m["value"]
        guard let role = roleValue as? String else { throw r.fail("\(field).\(roleKey)", "is missing or not a string") }
        guard let text = textValue as? String else { throw r.fail("\(field).\(textKey)", "is missing or not a string") }
        let mapped: String
        switch role {
        case "human", "user": mapped = "user"
        case "gpt", "assistant", "bot", "model": mapped = "assistant"
        case "system": mapped = "system"
        default: throw r.fail("\(field).\(roleKey)", "is '\(role)' (expected user/human, assistant/gpt or system)")
        }
        return ChatMessage(role: mapped, content: text)
    }
}

/// A tokenised training sequence: ids and, per position, whether the next token is learned.
public struct TokenSequence: Sendable, Equatable {
    public var ids: [Int]
    /// isTarget[i]: ids[i] is predicted (from ids[..<i]) and counts in the loss.
    public var isTarget: [Bool]
    public var targetCount: Int { isTarget.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Keeps the first `maxLength` tokens (the rule for long sequences); true when it cut.
    mutating func cut(to maxLength: Int) -> Bool {
        guard ids.count > maxLength else { return false }
        ids.removeLast(ids.count - maxLength)
        isTarget.removeLast(isTarget.count - maxLength)
        return true
    }
}

/// The SFT dataset: every record read, checked and tokenised.
public struct ChatDataset: Sendable {
    public let format: ChatDataFormat
    public let sequences: [TokenSequence]
    /// Sequences longer than the maximum length (cut at the end, keeping the first tokens).
    public let truncated: Int
    /// Records left with no learned token after cutting (dropped).
    public let dropped: Int

    /// `trainOnPrompt`: every token after the first counts, not only the assistant's.
    public init(url: URL, model: LlamaModel, maxLength: Int, trainOnPrompt: Bool) throws {
        let records = try DataRecords.read(url)
        let format = try ChatDataFormat.detect(records[0])
        var sequences: [TokenSequence] = []
        var truncated = 0, dropped = 0
        for r in records {
            let messages = try ChatRecords.messages(r, format: format)
            let encoded: EncodedChat
            do { encoded = try model.chatTemplate.encode(messages, tokenizer: model.tokenizer, addGenerationPrompt: false) } catch {
                throw TrainingError.data("\(r.location): cannot render the chat (\(error))")
            }
            var seq = TokenSequence(ids: encoded.ids, isTarget: encoded.isAssistant.enumerated().map { i, a in i > 0 && (a || trainOnPrompt) })
            if seq.cut(to: maxLength) { truncated += 1 }
            if seq.targetCount == 0 { dropped += 1; continue }
            sequences.append(seq)
        }
        guard !sequences.isEmpty else {
            throw TrainingError.data("\(url.lastPathComponent): no record keeps an assistant token within --max-length \(maxLength)")
        }
        self.format = format
        self.sequences = sequences
        self.truncated = truncated
        self.dropped = dropped
    }
}
