import Foundation
import Tokenizers

/// What retrieval searches for when the question is a follow-up. "And how big does it get?" names
/// nothing; searched for alone, its words find nothing about "it". Two ways out, both measured on
/// corpus/evaluation/followups.jsonl (`rag eval followups`):
///
/// - `recentTurns`: the earlier user questions of the conversation, then the question, searched
///   as one text (the embedding and BM25 both see the topic the earlier turns named);
/// - `rewrite`: the generator rewrites the question to stand alone, and that is searched.
///
/// `question` searches the last question alone (what every turn did before conversations).
public enum FollowUpRetrieval: String, Sendable, CaseIterable, Codable {
    case question
    case recentTurns = "recent-turns"
    case rewrite

    /// How many earlier user questions `recentTurns` joins to the question.
    static let earlierQuestions = 2
    /// Earlier questions longer than this (in characters) are cut: the topic is in their start.
    static let earlierQuestionLimit = 400

    /// The text to retrieve for. `messages` is the conversation, its last user turn the question.
    /// `rewrite` needs the generator; without one it falls back to `recentTurns`.
    public func query(for messages: [ChatMessage], generator: (any TextGenerator)?) throws -> String {
        let users = messages.filter { $0.role == "user" }.map { $0.content.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let question = users.last else { return "" }
        let earlier = users.dropLast().suffix(Self.earlierQuestions).filter { !$0.isEmpty }
        if earlier.isEmpty { return question }
        switch self {
        case .question:
            return question
        case .recentTurns:
            return Self.joined(Array(earlier), question)
        case .rewrite:
            guard let generator else { return Self.joined(Array(earlier), question) }
            return try Self.rewrite(messages, question: question, generator: generator)
        }
    }

    static func joined(_ earlier: [String], _ question: String) -> String {
        (earlier.map { String($0.prefix(earlierQuestionLimit)) } + [question]).joined(separator: "\n")
    }

    static let rewriteInstruction = """
        Rewrite the user's last question so that it can be understood without the conversation: \
        replace words such as "it", "its", "that" or "the second one" by what they refer to. \
        Reply with the rewritten question only.
        """

    /// Asks the generator for a stand-alone question (greedy, one line). An empty or runaway
    /// reply falls back to the question itself.
    static func rewrite(_ messages: [ChatMessage], question: String, generator: any TextGenerator) throws -> String {
        let turns = messages.filter { $0.role == "user" || $0.role == "assistant" }.dropLast().suffix(4)
        let transcript = turns.map { "\($0.role == "user" ? "User" : "Assistant"): \($0.content.prefix(600))" }
            .joined(separator: "\n")
        let prompt = try generator.chatTokens([
            ChatMessage(role: "system", content: rewriteInstruction),
            ChatMessage(role: "user", content: "Conversation:\n\(transcript)\n\nLast question: \(question)\n\nRewritten question:"),
        ])
        let options = GenerationOptions(maxTokens: 48, stop: ["\n"])
        let out = try generator.generate(promptTokens: prompt, options: options) { _ in true }
        var text = out.text.trimmingCharacters(in: .whitespacesAndNewlines)
        for prefix in ["Rewritten question:", "Question:"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        text = text.trimmingCharacters(in: CharacterSet(charactersIn: "\"“”'"))
        if text.isEmpty || out.finishReason == .length { return question }
        return text
    }
}
