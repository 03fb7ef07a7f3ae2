// Preference data for DPO, in the formats TRL and LLaMA-Factory users bring:
//   pair      {"prompt", "chosen", "rejected"}: each a string or a list of messages (the prompt's
//             last message is the user's; chosen/rejected are the assistant's reply)
//   sharegpt  {"conversations": [...], "chosen": {"from": "gpt", "value"}, "rejected": {...}}
//   ranked    {"prompt", "responses": [r0, r1, …], "ranking": […]}: every ordered pair. `ranking`
//             lists response indices best first ([1, 0, 2, 3]: r1 > r0 > r2 > r3, six pairs), or,
//             when it is a permutation of 1…n, gives each response's rank (1 = best). Instead of a
//             ranking, "pairs": [[better, worse], …] (indices) lists single preferences (a judge's).

import Foundation
import Tokenizers

public enum PreferenceDataFormat: String, Sendable {
    case pair, sharegpt, ranked

    static func detect(_ r: DataRecord) throws -> PreferenceDataFormat {
        let o = r.object
        if o["responses"] != nil || o["ranking"] != nil || o["pairs"] != nil { return .ranked }
        if o["conversations"] != nil { return .sharegpt }
        if o["chosen"] != nil || o["rejected"] != nil { return .pair }
        throw TrainingError.data("\(r.location): cannot tell the format from fields \(o.keys.sorted()) (expected prompt/chosen/rejected, conversations with chosen/rejected, or prompt/responses/ranking)")
    }
}

/// One preference: a prompt conversation and two replies, the first preferred.
struct PreferencePair {
    let prompt: [ChatMessage]
    let chosen: [ChatMessage]
    let rejected: [ChatMessage]
}

/// A tokenised pair: prompt + chosen and prompt + rejected, with the reply tokens marked.
public struct PreferenceSequences: Sendable, Equatable {
    public var chosen: TokenSequence
    public var rejected: TokenSequence
}

public struct PreferenceDataset: Sendable {
    public let format: PreferenceDataFormat
    public let pairs: [PreferenceSequences]
    /// Records whose pieces were longer than the maximum length (cut at the end).
    public let truncated: Int
    /// Pairs dropped because a reply had no token left within the maximum length.
    public let dropped: Int

    public init(url: URL, model: LlamaModel, maxLength: Int) throws {
        let records = try DataRecords.read(url)
        let format = try PreferenceDataFormat.detect(records[0])
        var pairs: [PreferenceSequences] = []
        var truncated = 0, dropped = 0
        for r in records {
            for p in try Self.pairs(r, format: format) {
                func encode(_ reply: [ChatMessage]) throws -> TokenSequence {
                    let e: EncodedChat
                    do { e = try model.chatTemplate.encode(p.prompt + reply, tokenizer: model.tokenizer, addGenerationPrompt: false) } catch {
                        throw TrainingError.data("\(r.location): cannot render the chat (\(error))")
                    }
                    // Only the final reply is scored: the assistant tokens after the prompt's.
                    let promptLength = (try? model.chatTemplate.encode(p.prompt, tokenizer: model.tokenizer, addGenerationPrompt: false).ids.count) ?? 0
                    var s = TokenSequence(ids: e.ids, isTarget: e.isAssistant.enumerated().map { i, a in i >= max(promptLength, 1) && a })
                    if s.cut(to: maxLength) { truncated += 1 }
                    return s
                }
                let chosen = try encode(p.chosen), rejected = try encode(p.rejected)
                if chosen.targetCount == 0 || rejected.targetCount == 0 { dropped += 1; continue }
                pairs.append(PreferenceSequences(chosen: chosen, rejected: rejected))
            }
        }
        guard !pairs.isEmpty else {
            throw TrainingError.data("\(url.lastPathComponent): no preference pair keeps a reply token within --max-length \(maxLength)")
        }
        self.format = format
        self.pairs = pairs
        self.truncated = truncated
        self.dropped = dropped
    }

    static func pairs(_ r: DataRecord, format: PreferenceDataFormat) throws -> [PreferencePair] {
        switch format {
        case .pair:
            let prompt = try promptMessages(r, field: "prompt")
            return [PreferencePair(prompt: prompt, chosen: try reply(r, field: "chosen"), rejected: try reply(r, field: "rejected"))]
        case .sharegpt:
            guard let list = r.object["conversations"] else { throw r.fail("conversations", "is missing") }
            let prompt = try ChatRecords.messageList(list, r, field: "conversations", roleKey: "from", textKey: "value")
            return [PreferencePair(prompt: prompt, chosen: try reply(r, field: "chosen"), rejected: try reply(r, field: "rejected"))]
        case .ranked:
            let prompt = try promptMessages(r, field: "prompt")
            guard let list = r.object["responses"] as? [Any], list.count >= 2 else {
                throw r.fail("responses", "must be a list of at least two replies")
            }
            let replies = try list.enumerated().map { i, item in try replyValue(item, r, field: "responses[\(i)]") }
            if let pairs = r.object["pairs"], !(pairs is NSNull) {
                guard let items = pairs as? [Any] else { throw r.fail("pairs", "must be a list of [better, worse] index pairs") }
                return try items.enumerated().map { k, item in
                    let ij = (item as? [Any])?.map { ($0 as? NSNumber)?.intValue ?? -1 } ?? []
                    guard ij.count == 2, ij[0] != ij[1], ij.allSatisfy({ (0..<replies.count).contains($0) }) else {
                        throw r.fail("pairs[\(k)]", "must be [better, worse]: two different indices in 0…\(replies.count - 1)")
                    }
                    return PreferencePair(prompt: prompt, chosen: replies[ij[0]], rejected: replies[ij[1]])
                }
            }
            guard let ranking = (r.object["ranking"] as? [Any])?.map({ ($0 as? NSNumber)?.intValue ?? -1 }), ranking.count == replies.count else {
                throw r.fail("ranking", "must be a list of \(replies.count) integers")
            }
            let order: [Int]   // response indices, best first
            if Set(ranking) == Set(0..<replies.count) {
                order = ranking
            } else if Set(ranking) == Set(1...replies.count) {
                order = ranking.enumerated().sorted { $0.element < $1.element }.map(\.offset)
            } else {
                throw r.fail("ranking", "must list the response indices 0…\(replies.count - 1) best first, or give each response its rank 1…\(replies.count)")
            }
            var out: [PreferencePair] = []
            for i in 0..<order.count {
                for j in (i + 1)..<order.count {
                    out.append(PreferencePair(prompt: prompt, chosen: replies[order[i]], rejected: replies[order[j]]))
                }
            }
            return out
        }
    }

    /// A prompt string (one user message) or a list of messages.
    static func promptMessages(_ r: DataRecord, field: String) throws -> [ChatMessage] {
        guard let value = r.object[field] else { throw r.fail(field, "is missing") }
        if let s = value as? String { return [ChatMessage(role: "user", content: s)] }
        return try ChatRecords.messageList(value, r, field: field)
    }

    static func reply(_ r: DataRecord, field: String) throws -> [ChatMessage] {
        guard let value = r.object[field] else { throw r.fail(field, "is missing") }
        return try replyValue(value, r, field: field)
    }

    /// A reply: a string, one message object, or a list of messages (the assistant's).
    static func replyValue(_ value: Any, _ r: DataRecord, field: String) throws -> [ChatMessage] {
        if let s = value as? String { return [ChatMessage(role: "assistant", content: s)] }
        if value is [String: Any] { return [try ChatRecords.message(value, r, field: field)] }
        let list = try ChatRecords.messageList(value, r, field: field)
        guard list.contains(where: { $0.role == "assistant" }) else { throw r.fail(field, "has no assistant message") }
        return list
    }
}
