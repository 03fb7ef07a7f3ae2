import Foundation

/// Ranking metrics for one query, computed over the ranked list of distinct sources (a source is a
/// file, or a file's page when the reference names a page): several chunks of the same source count
/// once, at the rank of the first.
public struct RetrievalScores: Sendable, Equatable, Codable {
    public var hitAt1 = 0.0, hitAt5 = 0.0, hitAt10 = 0.0
    public var mrrAt10 = 0.0, ndcgAt10 = 0.0, recallAt10 = 0.0

    public init() {}

    /// - Parameters:
    ///   - ranked: the retrieved sources, best first (duplicates allowed).
    ///   - relevant: the sources that hold the answer.
    public init(ranked: [String], relevant: Set<String>) {
        var seen = Set<String>()
        let distinct = ranked.filter { seen.insert($0).inserted }
        let gains = distinct.prefix(10).map { relevant.contains($0) ? 1.0 : 0.0 }
        func hit(_ k: Int) -> Double { gains.prefix(k).contains(1) ? 1 : 0 }
        hitAt1 = hit(1); hitAt5 = hit(5); hitAt10 = hit(10)
        if let first = gains.firstIndex(of: 1) { mrrAt10 = 1 / Double(first + 1) }
        // Binary-relevance nDCG: DCG = Σ rel_i / log2(i + 1), i from 1; the ideal ranks every relevant first.
        let dcg = gains.enumerated().reduce(0.0) { $0 + $1.element / log2(Double($1.offset + 2)) }
        let idealCount = min(relevant.count, 10)
        let idcg = (0..<idealCount).reduce(0.0) { $0 + 1 / log2(Double($1 + 2)) }
        ndcgAt10 = idcg > 0 ? dcg / idcg : 0
        recallAt10 = relevant.isEmpty ? 0 : gains.reduce(0, +) / Double(relevant.count)
    }

    /// The mean of several queries' scores.
    public static func mean(_ all: [RetrievalScores]) -> RetrievalScores {
        var m = RetrievalScores()
        guard !all.isEmpty else { return m }
        let n = Double(all.count)
        m.hitAt1 = all.map(\.hitAt1).reduce(0, +) / n
        m.hitAt5 = all.map(\.hitAt5).reduce(0, +) / n
        m.hitAt10 = all.map(\.hitAt10).reduce(0, +) / n
        m.mrrAt10 = all.map(\.mrrAt10).reduce(0, +) / n
        m.ndcgAt10 = all.map(\.ndcgAt10).reduce(0, +) / n
        m.recallAt10 = all.map(\.recallAt10).reduce(0, +) / n
        return m
    }
}
