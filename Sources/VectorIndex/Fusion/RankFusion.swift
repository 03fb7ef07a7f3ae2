/// Which rankings a retrieval uses.
public enum SearchMode: String, Sendable, CaseIterable {
    case vector, lexical, hybrid
}

/// One fused result: RRF score and the 1-based rank the label had in each input ranking.
public struct FusedHit: Sendable, Equatable {
    public let label: Int64
    public let score: Double
    public let ranks: [Int?]

    public init(label: Int64, score: Double, ranks: [Int?]) {
        self.label = label
        self.score = score
        self.ranks = ranks
    }
}

/// Reciprocal rank fusion (Cormack, Clarke & Büttcher 2009): score(d) = Σ_r 1 / (k + rank_r(d)).
public enum RankFusion {
    public static let defaultK = 60

    /// Fuses rankings (best first, duplicates within one ranking ignored). Ties go to the label
    /// with the better best rank, then the smaller label, so the order is deterministic.
    public static func reciprocalRank(_ rankings: [[Int64]], k: Int = defaultK, limit: Int? = nil) -> [FusedHit] {
        var scores: [Int64: Double] = [:]
        var ranks: [Int64: [Int?]] = [:]
        for (r, ranking) in rankings.enumerated() {
            var seen: Set<Int64> = []
            for (position, label) in ranking.enumerated() where seen.insert(label).inserted {
                let rank = position + 1
                scores[label, default: 0] += 1 / Double(k + rank)
                ranks[label, default: Array(repeating: nil, count: rankings.count)][r] = rank
            }
        }
        let fused = scores.map { FusedHit(label: $0.key, score: $0.value, ranks: ranks[$0.key] ?? []) }
            .sorted { a, b in
                if a.score != b.score { return a.score > b.score }
                let ba = a.ranks.compactMap { $0 }.min() ?? Int.max, bb = b.ranks.compactMap { $0 }.min() ?? Int.max
                if ba != bb { return ba < bb }
                return a.label < b.label
            }
        return limit.map { Array(fused.prefix($0)) } ?? fused
    }
}

/// Retrieval over both indexes in one of the three modes.
public struct HybridSearch: Sendable {
    public let index: HNSWIndex
    public let lexical: LexicalIndex
    /// How many candidates each ranking contributes before fusion (at least k).
    public var candidates: Int

    public init(index: HNSWIndex, lexical: LexicalIndex = LexicalIndex(), candidates: Int = 50) {
        self.index = index
        self.lexical = lexical
        self.candidates = candidates
    }

    /// Top-k labels for a query given as an embedding and as text. `allowed` restricts both rankings.
    /// Fused ranks are [vector rank, lexical rank]; single-mode results carry one rank.
    public func search(mode: SearchMode, vector: [Float], text: String, k: Int, allowed: Set<Int64>? = nil,
                       in db: Database) throws -> [FusedHit] {
        let n = max(k, candidates)
        let filter = allowed.map { SearchFilter.labels($0) }
        switch mode {
        case .vector:
            return try index.search(vector, k: k, filter: filter).enumerated().map {
                FusedHit(label: $1.label, score: Double(-$1.distance), ranks: [$0 + 1])
            }
        case .lexical:
            return try lexical.search(text, k: k, allowed: allowed, in: db).enumerated().map {
                FusedHit(label: $1.chunkID, score: $1.score, ranks: [$0 + 1])
            }
        case .hybrid:
            let v = try index.search(vector, k: n, efSearch: max(index.parameters.efSearch, n), filter: filter)
            let l = try lexical.search(text, k: n, allowed: allowed, in: db)
            return RankFusion.reciprocalRank([v.map(\.label), l.map(\.chunkID)], limit: k)
        }
    }
}
