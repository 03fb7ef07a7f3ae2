import Foundation
import VectorIndex

/// A retrieved chunk with the two numbers the pipeline uses: the rank score it is ordered by
/// (cosine, BM25 or fused) and its cosine similarity to the question (for the relevance threshold).
struct RetrievedChunk {
    var chunk: StoredChunk
    var score: Double
    var similarity: Double
}

/// Vector, lexical or hybrid retrieval over one knowledge base. Hybrid fuses the two rankings by
/// reciprocal rank fusion: score(d) = Σ 1 / (60 + rank_i(d)), ranks from 1.
struct Retriever {
    let base: KnowledgeBase
    let embedder: any TextEmbedder
    static let rrfK = 60.0

    func retrieve(_ query: String, options: SearchOptions) throws -> [RetrievedChunk] {
        let k = max(1, options.k)
        let allowed = try options.pathGlob.map { try base.chunkIDs(matching: $0) }
        if let allowed, allowed.isEmpty { return [] }
        let queryVector = try embedder.embed([query]).first ?? []

        let ranked: [(id: Int64, score: Double)]
        switch options.mode {
        case .vector:
            ranked = try vectorRanking(queryVector, k: k, allowed: allowed)
        case .lexical:
            ranked = try base.lexicalSearch(query, k: k, allowed: allowed)
        case .hybrid:
            // Each list goes deeper than k so that fusion can promote a chunk ranked well by one side only.
            let depth = max(k * 4, 40)
            let v = try vectorRanking(queryVector, k: depth, allowed: allowed)
            let l = try base.lexicalSearch(query, k: depth, allowed: allowed)
            ranked = Array(Self.fuse([v.map(\.id), l.map(\.id)]).prefix(k))
        }
        let rows = try base.chunks(ranked.map(\.id))
        return ranked.compactMap { entry in
            guard let chunk = rows[entry.id] else { return nil }  // not committed yet
            return RetrievedChunk(chunk: chunk, score: entry.score, similarity: similarity(queryVector, entry.id))
        }
    }

    /// Nearest chunks by cosine similarity (the index's distance is 1 − cosine).
    private func vectorRanking(_ q: [Float], k: Int, allowed: Set<Int64>?) throws -> [(id: Int64, score: Double)] {
        guard base.index.count > 0 else { return [] }
        let hits = try base.index.search(q, k: k, filter: allowed.map { .labels($0) })
        return hits.map { ($0.label, 1 - Double($0.distance)) }
    }

    private func similarity(_ q: [Float], _ id: Int64) -> Double {
        guard let v = base.index.vector(for: id), v.count == q.count else { return 0 }
        var dot: Float = 0
        for i in 0..<v.count { dot += v[i] * q[i] }
        return Double(dot)
    }

    /// Reciprocal rank fusion of several rankings (best first), highest fused score first; ties
    /// keep the order of first appearance.
    static func fuse(_ rankings: [[Int64]]) -> [(id: Int64, score: Double)] {
        var score: [Int64: Double] = [:]
        var firstSeen: [Int64: Int] = [:]
        var order = 0
        for ranking in rankings {
            for (rank, id) in ranking.enumerated() {
                score[id, default: 0] += 1 / (rrfK + Double(rank + 1))
                if firstSeen[id] == nil { firstSeen[id] = order; order += 1 }
            }
        }
        return score.map { ($0.key, $0.value) }.sorted {
            $0.1 != $1.1 ? $0.1 > $1.1 : (firstSeen[$0.0] ?? 0) < (firstSeen[$1.0] ?? 0)
        }
    }
}
