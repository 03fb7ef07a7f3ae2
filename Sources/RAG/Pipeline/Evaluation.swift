import Foundation

/// `rag eval retrieval`: the ranking metrics of each retrieval mode over the answerable questions.
public enum RetrievalEvaluation {
    public static func run(_ pipeline: RAGPipeline, queries: [EvalQuery], modes: [RetrievalMode] = RetrievalMode.allCases,
                           k: Int = 10) throws -> [(mode: RetrievalMode, scores: RetrievalScores)] {
        let answerable = queries.filter(\.isAnswerable)
        guard !answerable.isEmpty else { throw RAGError.invalidInput("no answerable questions to evaluate retrieval on") }
        return try modes.map { mode in
            let scores = try answerable.map { q in
                let hits = try pipeline.retrieve(q.question, options: SearchOptions(k: k, mode: mode))
                return RetrievalScores(ranked: hits.map { q.unit(file: $0.chunk.path, page: $0.chunk.page) }, relevant: q.relevantUnits)
            }
            return (mode, RetrievalScores.mean(scores))
        }
    }
}

/// One question's outcome in `rag eval answers`.
public struct AnswerEvalRecord: Sendable, Codable {
    public var id: String?
    public var question: String
    public var reference: String?
    public var answer: String
    public var answerable: Bool
    public var refused: Bool
    public var f1: Double
    public var exactMatch: Bool
    /// The answer states the key fact: it contains the reference answer (normalised, as a run of tokens).
    public var keyFactMatch: Bool
    public var citedContainsAnswer: Bool
    /// The first passage the answer cites contains the reference answer.
    public var firstCitedContainsAnswer: Bool
    /// Citation markers the citation check renumbered in this answer.
    public var citationsRenumbered: Int
    /// The answer cited nothing and the citation check added the passage that supports it best.
    public var citationAdded: Bool
    public var latencyMs: Double
}

public struct AnswerEvalSummary: Sendable, Codable {
    public var questions = 0
    public var answerable = 0
    public var unanswerable = 0
    /// Mean token F1 and exact match over answerable questions.
    public var f1 = 0.0
    public var exactMatch = 0.0
    /// Answerable questions whose answer contains the reference answer (the key fact stated).
    public var keyFactMatch = 0.0
    /// Answerable questions where a cited passage contains the reference answer.
    public var citationAccuracy = 0.0
    /// Answerable questions where the first cited passage contains it (the stricter reading).
    public var firstCitationAccuracy = 0.0
    /// Unanswerable questions the system declined to answer.
    public var refusalAccuracy = 0.0
    /// Answerable questions it declined anyway.
    public var falseRefusalRate = 0.0
    public var latencyMsMean = 0.0
    public var latencyMsP50 = 0.0
    public var latencyMsP95 = 0.0
}

/// `rag eval answers`: asks every question and scores the answers against the references.
public enum AnswerEvaluation {
    static func isRefusal(_ result: AnswerResult) -> Bool {
        result.refused || Declining.reads(result.answer)
    }

    public static func run(_ pipeline: RAGPipeline, queries: [EvalQuery], k: Int = 5, generation: GenerationOptions,
                           checkCitations: Bool = true, calibratedRefusal: Bool = true,
                           progress: (Int, Int) -> Void) throws -> (summary: AnswerEvalSummary, records: [AnswerEvalRecord]) {
        var records: [AnswerEvalRecord] = []
        for (i, q) in queries.enumerated() {
            let start = Date()
            let result = try pipeline.answerSync(AnswerRequest(question: q.question, search: SearchOptions(k: k), generation: generation,
                                                                       checkCitations: checkCitations, calibratedRefusal: calibratedRefusal),
                                                 isCancelled: { false }, onToken: { _ in true })
            let ms = Date().timeIntervalSince(start) * 1000
            let reference = q.answer ?? ""
            let refused = isRefusal(result)
            let cited = !reference.isEmpty && result.cited && result.sources.contains { AnswerMetrics.contains($0.text, answer: reference) }
            // `sources` are in the order the answer first cites them.
            let firstCited = !reference.isEmpty && result.cited && result.sources.first.map { AnswerMetrics.contains($0.text, answer: reference) } == true
            records.append(AnswerEvalRecord(
                id: q.id, question: q.question, reference: q.answer, answer: result.answer, answerable: q.isAnswerable,
                refused: refused, f1: reference.isEmpty ? 0 : AnswerMetrics.f1(prediction: result.answer, reference: reference),
                exactMatch: !reference.isEmpty && AnswerMetrics.exactMatch(prediction: result.answer, reference: reference),
                keyFactMatch: !reference.isEmpty && AnswerMetrics.contains(result.answer, answer: reference),
                citedContainsAnswer: cited, firstCitedContainsAnswer: firstCited,
                citationsRenumbered: result.citationsRenumbered, citationAdded: result.citationAdded, latencyMs: ms))
            progress(i + 1, queries.count)
        }
        return (summarize(records), records)
    }

    static func summarize(_ records: [AnswerEvalRecord]) -> AnswerEvalSummary {
        var s = AnswerEvalSummary()
        let ans = records.filter(\.answerable), un = records.filter { !$0.answerable }
        s.questions = records.count; s.answerable = ans.count; s.unanswerable = un.count
        func mean(_ xs: [Double]) -> Double { xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count) }
        s.f1 = mean(ans.map(\.f1))
        s.exactMatch = mean(ans.map { $0.exactMatch ? 1 : 0 })
        s.keyFactMatch = mean(ans.map { $0.keyFactMatch ? 1 : 0 })
        // An answer that declines earns no citation credit, whatever it cites: "The passages don't
        // say [1]." cites the passage holding the answer without giving it.
        s.citationAccuracy = mean(ans.map { $0.citedContainsAnswer && !$0.refused ? 1 : 0 })
        s.firstCitationAccuracy = mean(ans.map { $0.firstCitedContainsAnswer && !$0.refused ? 1 : 0 })
        s.falseRefusalRate = mean(ans.map { $0.refused ? 1 : 0 })
        s.refusalAccuracy = mean(un.map { $0.refused ? 1 : 0 })
        let lat = records.map(\.latencyMs).sorted()
        s.latencyMsMean = mean(lat)
        if !lat.isEmpty {
            s.latencyMsP50 = lat[lat.count / 2]
            s.latencyMsP95 = lat[min(lat.count - 1, Int(Double(lat.count) * 0.95))]
        }
        return s
    }
}
