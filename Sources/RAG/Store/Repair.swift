import Foundation
import VectorIndex

/// What `rag repair` did.
public struct RepairReport: Sendable, Codable, Equatable {
    public var chunks = 0
    /// Vectors taken over from the stored graph rows.
    public var vectorsKept = 0
    /// Chunks that had no usable stored vector and were embedded again.
    public var reembedded = 0
    /// Stored vectors whose chunk no longer exists.
    public var vectorsDropped = 0
    public var orphanChunksRemoved = 0
    public var seconds = 0.0
}

extension KnowledgeBase {
    /// Rebuilds everything derived from the stored chunks: the graph (from the stored vectors, with
    /// chunks whose vector is missing or unreadable embedded again by `embedder`) and both full-text
    /// tables; removes chunks whose document is gone. Documents and chunk text are never changed.
    /// Missing vectors are embedded before taking the write lock; the rebuild is one transaction, so
    /// a failure or kill leaves the base as it was, and other processes reload when it commits.
    public static func repair(url: URL, with embedder: any TextEmbedder, batchSize: Int = 32,
                              progress: (Int, Int) -> Void = { _, _ in }) throws -> RepairReport {
        let started = Date()
        guard FileManager.default.fileExists(atPath: url.path) else { throw RAGError.invalidInput("\(url.path): no such knowledge base") }
        let db: Database
        do { db = try Database(path: url.path) } catch { throw RAGError.store("cannot open \(url.path): \(error)") }
        try Schema.migrate(db)
        try HNSWIndex.createTables(in: db)
        let lexical = LexicalIndex()
        try lexical.createTables(in: db)
        let dimension = embedder.identity.dimension
        let settings = try readSettings(db)
        if let recorded = settings["embedder"], recorded != embedder.identity.name || settings["dimension"] != String(dimension) {
            throw RAGError.embedderMismatch("\(url.path) was embedded with \(recorded) (\(settings["dimension"] ?? "?") dimensions), "
                                            + "not \(embedder.identity.name); repair with --embedder of that model")
        }

        // Outside the write lock: embed what has no usable vector now.
        var fresh: [Int64: [Float]] = [:]
        let missing = try db.readTransaction { try chunksWithoutVector(db, dimension: dimension) }
        try embed(missing, with: embedder, batchSize: batchSize, into: &fresh, progress: progress)

        do {
            return try db.transaction {
                var report = RepairReport()
                try db.run("DELETE FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)")
                report.orphanChunksRemoved = db.changes
                // Chunks written since the first pass may lack a vector too (another writer's crash).
                let late = try chunksWithoutVector(db, dimension: dimension).filter { fresh[$0.0] == nil }
                try embed(late, with: embedder, batchSize: batchSize, into: &fresh, progress: progress)

                let chunks = try db.query("SELECT id, text FROM chunks ORDER BY id") { ($0.int64(0), $0.string(1) ?? "") }
                let stored = try storedVectors(db, dimension: dimension)
                let (metric, parameters) = try storedSettings(db)
                let capacity = max(chunks.count, 16)
                let index = try (try? HNSWIndex(dimension: dimension, metric: metric, parameters: parameters, capacity: capacity))
                    ?? HNSWIndex(dimension: dimension, metric: metric, capacity: capacity)  // damaged parameters: the defaults
                for (id, _) in chunks {
                    if let v = stored[id] { try index.insert(v, label: id); report.vectorsKept += 1 }
                    else if let v = fresh[id] { try index.insert(v, label: id); report.reembedded += 1 }
                    else { throw RAGError.store("chunk \(id): no vector after re-embedding") }
                }
                report.chunks = chunks.count
                report.vectorsDropped = Set(stored.keys).subtracting(chunks.map(\.0)).count
                try db.execute("DELETE FROM vector_index_meta")
                try index.save(to: db)

                try db.execute("DELETE FROM \(LexicalIndex.wordTable)")
                if try lexical.hasTrigramTable(in: db) { try db.execute("DELETE FROM \(LexicalIndex.cjkTable)") }
                for (id, text) in chunks { try lexical.insert(chunkID: id, text: text, in: db) }
                report.seconds = Date().timeIntervalSince(started)
                return report
            }
        } catch let e as SQLiteError where e.isBusy {
            throw RAGError.store("\(url.path) is locked by another writer; run `rag repair` again when it finishes")
        }
    }

    /// Chunks whose stored vector is absent or unusable (wrong length, non-finite, zero).
    private static func chunksWithoutVector(_ db: Database, dimension: Int) throws -> [(Int64, String)] {
        let usable = Set(try storedVectors(db, dimension: dimension).keys)
        return try db.query("SELECT id, text FROM chunks ORDER BY id") { ($0.int64(0), $0.string(1) ?? "") }
            .filter { !usable.contains($0.0) }
    }

    /// The vectors in the graph's rows that can be used again, by label.
    private static func storedVectors(_ db: Database, dimension: Int) throws -> [Int64: [Float]] {
        var out: [Int64: [Float]] = [:]
        let stmt = try db.prepare("SELECT label, vector FROM vector_index_node")
        while try stmt.step() {
            guard let v = try? stmt.floats(1), v.count == dimension, v.allSatisfy(\.isFinite), v.contains(where: { $0 != 0 }) else { continue }
            out[stmt.int64(0)] = v
        }
        return out
    }

    /// The metric and parameters the graph was built with (defaults where the meta rows are gone).
    private static func storedSettings(_ db: Database) throws -> (Metric, HNSWParameters) {
        var meta: [String: String] = [:]
        for (k, v) in try db.query("SELECT key, CAST(value AS TEXT) FROM vector_index_meta", row: { ($0.string(0) ?? "", $0.string(1) ?? "") }) {
            meta[k] = v
        }
        let d = HNSWParameters()
        let parameters = HNSWParameters(M: meta["M"].flatMap(Int.init) ?? d.M,
                                        efConstruction: meta["ef_construction"].flatMap(Int.init) ?? d.efConstruction,
                                        efSearch: meta["ef_search"].flatMap(Int.init) ?? d.efSearch,
                                        seed: meta["seed"].flatMap(Int64.init).map { UInt64(bitPattern: $0) } ?? d.seed,
                                        keepPrunedConnections: meta["keep_pruned_connections"].map { $0 != "0" } ?? d.keepPrunedConnections)
        return (meta["metric"].flatMap(Metric.init(rawValue:)) ?? .cosine, parameters)
    }

    private static func embed(_ chunks: [(Int64, String)], with embedder: any TextEmbedder, batchSize: Int,
                              into out: inout [Int64: [Float]], progress: (Int, Int) -> Void) throws {
        for start in stride(from: 0, to: chunks.count, by: batchSize) {
            let batch = Array(chunks[start..<min(start + batchSize, chunks.count)])
            for ((id, _), v) in zip(batch, try embedder.embed(batch.map(\.1))) { out[id] = v }
            progress(min(start + batchSize, chunks.count), chunks.count)
        }
    }
}
