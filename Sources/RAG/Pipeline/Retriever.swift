import Foundation
import VectorIndex

/// A retrieved chunk with the two numbers the pipeline uses: the rank score it is ordered by
/// (cosine, BM25 or fused RRF) and its cosine similarity to the question (for the relevance threshold).
struct RetrievedChunk {
    var chunk: StoredChunk
    var score: Double
    var similarity: Double
}

/// Vector, lexical or hybrid retrieval (VectorIndex's HybridSearch: reciprocal rank fusion, k = 60)
/// over one knowledge base, with an optional path-glob filter.
struct Retriever {
    let base: any KnowledgeStore
    let embedder: any TextEmbedder

    func retrieve(_ query: String, options: SearchOptions) throws -> [RetrievedChunk] {
        let k = max(1, options.k)
        let allowed = try options.pathGlob.map { try base.chunkIDs(matching: $0) }
        if let allowed, allowed.isEmpty { return [] }
        let queryVector = try embedder.embed([query]).first ?? []
        let hits = try base.search(mode: options.mode.searchMode, vector: queryVector, text: query, k: k, allowed: allowed)
        let rows = try base.chunks(hits.map(\.label))
        let similarities = try base.similarities(queryVector, ids: hits.map(\.label))
        return hits.compactMap { hit in
            guard let chunk = rows[hit.label] else { return nil }  // not committed yet
            // The vector mode's score is −distance = cosine − 1; report the cosine itself.
            let score = options.mode == .vector ? hit.score + 1 : hit.score
            return RetrievedChunk(chunk: chunk, score: score, similarity: similarities[hit.label] ?? 0)
        }
    }
}

extension RetrievalMode {
    var searchMode: SearchMode {
        switch self {
        case .vector: return .vector
        case .lexical: return .lexical
        case .hybrid: return .hybrid
        }
    }
}
