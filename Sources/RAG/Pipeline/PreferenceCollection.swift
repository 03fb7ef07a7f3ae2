// Preferences from the people who use `rag`: each question is asked N times through the real
// pipeline (same retrieval and prompt, sampled answers with different seeds), the candidates are
// written for ranking, and a ranking turns the record into the "ranked" preference format that
// `rag finetune dpo` and `rag finetune rm` read ({"prompt", "responses", "ranking"}: every ordered
// pair of a ranking is a preference).

import Foundation
import Generator
import Tokenizers

/// One question's candidates, as a line of the preferences file.
public struct CandidateSet: Codable, Sendable, Equatable {
    public var question: String
    /// What the generator was asked: the template's system message and the user turn with the
    /// numbered passages (so pairs train on exactly the prompts `rag ask` sends).
    public var prompt: [ChatMessage]
    public var passages: [Passage]
    public var responses: [String]
    /// Response indices, best first; nil until ranked.
    public var ranking: [Int]?
    /// A pairwise judge's verdicts, [better, worse] each (its ties left out), instead of a ranking.
    public var pairs: [[Int]]?
    /// Who ranked: nil for a person, else the judge (`reward:DIR`, `model:PATH`).
    public var judge: String?
    /// The reward judge's score of each response.
    public var scores: [Double]?

    public var isRanked: Bool { ranking != nil || pairs != nil }

    public init(question: String, prompt: [ChatMessage], passages: [Passage], responses: [String], ranking: [Int]? = nil) {
        self.question = question
        self.prompt = prompt
        self.passages = passages
        self.responses = responses
        self.ranking = ranking
    }
}

extension RAGPipeline {
    /// `n` sampled answers to `question` (seeds `sampling.seed`, +1, …); nil when retrieval finds
    /// nothing relevant (the pipeline would refuse without asking the model: nothing to rank).
    public func collectCandidates(question: String, n: Int, search: SearchOptions, sampling: SamplingOptions) throws -> CandidateSet? {
        guard n >= 2 else { throw RAGError.invalidInput("--n \(n): at least two candidates are needed to rank") }
        let request = AnswerRequest(question: question, search: search, generation: GenerationOptions(sampling: sampling))
        let prepared = try preparePrompt(request)
        if prepared.refused { return nil }
        var responses: [String] = []
        for i in 0..<n {
            var r = request
            r.generation.sampling.seed = (sampling.seed ?? 1) &+ UInt64(i)
            responses.append(try answerSync(r, isCancelled: { false }, onToken: { _ in true }).answer)
        }
        return CandidateSet(question: question, prompt: prepared.messages, passages: prepared.passages, responses: responses, ranking: nil)
    }
}

/// Reading, ranking and writing a preferences file (JSON lines of `CandidateSet`).
public enum PreferenceFile {
    public static func read(_ url: URL) throws -> [CandidateSet] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw RAGError.invalidInput("\(url.path): cannot read (\(error.localizedDescription))") }
        let decoder = JSONDecoder()
        return try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { n, line in
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
            do { return try decoder.decode(CandidateSet.self, from: Data(line.utf8)) } catch {
                throw RAGError.invalidInput("\(url.lastPathComponent):\(n + 1): not a candidate record (\(error))")
            }
        }
    }

    /// Writes all records at once (a temporary file renamed over the target), so a ranking session
    /// stopped half-way keeps every ranking already given.
    public static func write(_ sets: [CandidateSet], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for s in sets { data.append(try encoder.encode(s)); data.append(0x0A) }
        try data.write(to: url, options: .atomic)
    }

    /// The records that hold at least one preference (a judge may have found only ties).
    public static func trainable(_ sets: [CandidateSet]) -> [CandidateSet] {
        sets.filter { $0.ranking != nil || !($0.pairs ?? []).isEmpty }
    }

    /// Questions to collect for: one per line, as text or as a JSON object with "question" (the
    /// format of `rag eval` query files, whose other fields are ignored here).
    public static func questions(in url: URL) throws -> [String] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch { throw RAGError.invalidInput("\(url.path): cannot read (\(error.localizedDescription))") }
        return try text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { n, raw in
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { return nil }
            guard line.hasPrefix("{") else { return line }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let q = object["question"] as? String, !q.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw RAGError.invalidInput("\(url.lastPathComponent):\(n + 1): a JSON line needs a non-empty \"question\" string")
            }
            return q
        }
    }

    /// A ranking typed as `2>1>4>3` (1-based, best first, every candidate once) -> [1, 0, 3, 2].
    public static func parseRanking(_ text: String, count: Int) throws -> [Int] {
        let parts = text.split(separator: ">", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let numbers = parts.map { Int($0) }
        guard numbers.allSatisfy({ $0 != nil }) else {
            throw RAGError.invalidInput("'\(text)': write the candidates' numbers best first, separated by '>' (e.g. 2>1>3)")
        }
        let order = numbers.compactMap { $0 }
        guard order.count == count, Set(order) == Set(1...count) else {
            throw RAGError.invalidInput("'\(text)': name each of the \(count) candidates 1…\(count) exactly once")
        }
        return order.map { $0 - 1 }
    }
}
