import Foundation

/// `rag eval followups`: how well each way of retrieving for a follow-up question
/// (FollowUpRetrieval) finds its source, on questions that carry the conversation before them.
public enum FollowUpEvaluation {
    public struct Row: Sendable, Codable {
        public var strategy: FollowUpRetrieval
        public var scores: RetrievalScores
        /// Each question's retrieval text, in the file's order (what was searched for).
        public var queries: [String]
    }

    public static func run(_ pipeline: RAGPipeline, queries: [EvalQuery], strategies: [FollowUpRetrieval] = FollowUpRetrieval.allCases,
                           mode: RetrievalMode = .hybrid, k: Int = 10) throws -> [Row] {
        let answerable = queries.filter(\.isAnswerable)
        guard !answerable.isEmpty else { throw RAGError.invalidInput("no answerable questions to evaluate retrieval on") }
        let generator = strategies.contains(.rewrite) ? try pipeline.generator() : nil
        return try strategies.map { strategy in
            var texts: [String] = []
            let scores = try answerable.map { q in
                let text = try strategy.query(for: q.messages, generator: generator)
                texts.append(text)
                let hits = try pipeline.retrieve(text, options: SearchOptions(k: k, mode: mode))
                return RetrievalScores(ranked: hits.map { q.unit(file: $0.chunk.path, page: $0.chunk.page) }, relevant: q.relevantUnits)
            }
            return Row(strategy: strategy, scores: RetrievalScores.mean(scores), queries: texts)
        }
    }
}
