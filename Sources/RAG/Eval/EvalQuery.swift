import Foundation
import Tokenizers

/// One line of an evaluation file (`corpus/questions.jsonl` and the like):
/// `{"id"?, "question", "answer"?, "relevant": [paths], "page"?, "lang"?, "answerable"?}`; a
/// follow-up question (corpus/evaluation/followups.jsonl) adds the conversation before it as
/// `"history": [{"role", "content"}]`.
public struct EvalQuery: Sendable, Codable, Equatable {
    public var id: String?
    public var question: String
    public var answer: String?
    public var relevant: [String]
    public var page: Int?
    public var lang: String?
    public var answerable: Bool?
    public var history: [ChatMessage]?

    public init(id: String? = nil, question: String, answer: String? = nil, relevant: [String], page: Int? = nil,
                lang: String? = nil, answerable: Bool? = nil, history: [ChatMessage]? = nil) {
        self.id = id; self.question = question; self.answer = answer; self.relevant = relevant
        self.page = page; self.lang = lang; self.answerable = answerable; self.history = history
    }

    /// The conversation up to and including this question.
    public var messages: [ChatMessage] { (history ?? []) + [ChatMessage(role: "user", content: question)] }

    /// A question the corpus answers: marked so, or (when unmarked) one with relevant files.
    public var isAnswerable: Bool { answerable ?? !relevant.isEmpty }

    /// The units retrieval is judged on: "file#page" when the reference names a page, else files.
    public var relevantUnits: Set<String> {
        Set(relevant.map { file in page.map { "\(file)#\($0)" } ?? file })
    }

    /// How a retrieved (file, page) is named in the same units.
    public func unit(file: String, page hitPage: Int?) -> String {
        page == nil ? file : "\(file)#\(hitPage.map(String.init) ?? "-")"
    }

    /// Reads a JSONL file; errors name the file and line.
    public static func load(_ url: URL) throws -> [EvalQuery] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw RAGError.invalidInput("\(url.path): cannot read (\(error.localizedDescription))")
        }
        var out: [EvalQuery] = []
        let decoder = JSONDecoder()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            do {
                let q = try decoder.decode(EvalQuery.self, from: Data(trimmed.utf8))
                guard !q.question.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw RAGError.invalidInput("empty \"question\"")
                }
                out.append(q)
            } catch let e as DecodingError {
                throw RAGError.invalidInput("\(url.path):\(i + 1): \(Self.describe(e))")
            } catch {
                throw RAGError.invalidInput("\(url.path):\(i + 1): \(error)")
            }
        }
        guard !out.isEmpty else { throw RAGError.invalidInput("\(url.path): no questions") }
        return out
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let key, _): return "missing field \"\(key.stringValue)\""
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx):
            return "field \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\": \(ctx.debugDescription)"
        case .dataCorrupted(let ctx): return "not valid JSON (\(ctx.underlyingError.map { "\($0)" } ?? ctx.debugDescription))"
        @unknown default: return "\(e)"
        }
    }
}
