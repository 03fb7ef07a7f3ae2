import Foundation
import VectorIndex

extension KnowledgeBase {
    /// Every chunk's text with where it came from (for re-embedding and for mining training pairs).
    public func allChunks() throws -> [StoredChunk] {
        try readers.with { db in
            try db.query("""
                SELECT c.id, c.document_id, d.path, c.page, c.section, c.text
                FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id
                """) { s in
                StoredChunk(id: s.int64(0), documentID: s.int64(1), path: s.string(2) ?? "",
                            page: s.isNull(3) ? nil : s.int(3), section: s.string(4), text: s.string(5) ?? "")
            }
        }
    }

    /// Replaces every vector of the base at `url` by `embedder`'s, rebuilds the graph, and records
    /// the new embedder — in one transaction, so a failure leaves the old base as it was.
    public static func reembed(url: URL, with embedder: any TextEmbedder, batchSize: Int = 32,
                               progress: (Int, Int) -> Void = { _, _ in }) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw RAGError.invalidInput("\(url.path): no such knowledge base") }
        let db: Database
        do { db = try Database(path: url.path) } catch { throw RAGError.store("cannot open \(url.path): \(error)") }
        try Schema.migrate(db)
        let chunks = try db.query("SELECT id, text FROM chunks ORDER BY id") { ($0.int64(0), $0.string(1) ?? "") }
        let old = try HNSWIndex.load(from: db)
        let index = try HNSWIndex(dimension: embedder.identity.dimension, metric: old?.metric ?? .cosine,
                                  parameters: old?.parameters ?? HNSWParameters(), capacity: max(chunks.count, 16))
        for start in stride(from: 0, to: chunks.count, by: batchSize) {
            let batch = Array(chunks[start..<min(start + batchSize, chunks.count)])
            let vectors = try embedder.embed(batch.map(\.1))
            for ((id, _), v) in zip(batch, vectors) { try index.insert(v, label: id) }
            progress(min(start + batchSize, chunks.count), chunks.count)
        }
        try db.transaction {
            try db.execute("DELETE FROM vector_index_node; DELETE FROM vector_index_meta;")
            try index.save(to: db)
            try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES('embedder', ?)", .text(embedder.identity.name))
            try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES('dimension', ?)", .text(String(embedder.identity.dimension)))
        }
    }
}
