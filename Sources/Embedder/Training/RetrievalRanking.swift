import Tensor

/// Exact (brute-force) dense retrieval for evaluation: every query against every corpus text by
/// cosine of the encoder's embeddings. Feed the ranked ids with the relevant ids to the RAG module's
/// `RetrievalScores` for hit@k, MRR@10, nDCG@10 and recall@10.
public enum DenseRetrieval {
    /// For each query, the ids of the `k` most similar corpus texts, best first (ties: corpus order).
    public static func rank(queries: [String], corpus: [(id: String, text: String)], encoder: SentenceEncoder,
                            k: Int = 10, batchSize: Int = 32) throws -> [[String]] {
        guard !queries.isEmpty, !corpus.isEmpty else { return queries.map { _ in [] } }
        let c = encoder.dimension
        let q = try Tensor(try encoder.encode(queries, batchSize: batchSize).flatMap { $0 }, shape: [queries.count, c])
        let d = try Tensor(try encoder.encode(corpus.map(\.text), batchSize: batchSize).flatMap { $0 }, shape: [corpus.count, c])
        let scores = try noGrad {
            try q.l2NormalizedRows().matmul(try d.l2NormalizedRows().transpose(0, 1))   // [Q, D]
        }.toArray()
        let n = corpus.count
        return queries.indices.map { i in
            let row = scores[(i * n)..<((i + 1) * n)]
            let order = row.indices.sorted { (row[$0], $1) > (row[$1], $0) }
            return order.prefix(k).map { corpus[$0 - i * n].id }
        }
    }
}
