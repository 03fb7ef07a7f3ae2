import Foundation
import PostgresNIO
import VectorIndex

/// Whole documents out of and into PostgreSQL (for `rag migrate`), and re-embedding in place.
extension PostgresKnowledgeBase {
    public func exportDocuments(_ body: (ExportedDocument) throws -> Void) throws {
        try pool.transaction { s in
            try s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  // one snapshot for the whole copy
            let documents = try s.query("""
                SELECT id, path, source, kind, bytes, mtime_ns, content_hash, pages, title, ingested_at FROM rag_documents ORDER BY id
                """)
            for row in documents {
                let (id, path, source, kind, bytes, mtime, hash, pages, title, at) =
                    try row.decode((Int64, String, String, String, Int64, Int64, String, Int32?, String?, Double).self)
                var record = DocumentRecord(path: path, source: source, kind: kind, bytes: bytes, mtimeNanoseconds: mtime,
                                            contentHash: hash, pages: pages.map(Int.init), title: title, chunks: [])
                var ids: [Int64] = []
                for c in try s.query("""
                    SELECT id, text, page, section, char_start, char_end, tokens, embedding::real[]
                    FROM rag_chunks WHERE document_id = $1 ORDER BY ordinal
                    """, .int(id)) {
                    let (chunkID, text, page, section, start, end, tokens, vector) =
                        try c.decode((Int64, String, Int32?, String?, Int32, Int32, Int32, [Float]).self)
                    ids.append(chunkID)
                    record.chunks.append(ChunkRecord(text: text, page: page.map(Int.init), section: section, charStart: Int(start),
                                                     charEnd: Int(end), tokens: Int(tokens), vector: vector))
                }
                try body(ExportedDocument(id: id, record: record, chunkIDs: ids, ingestedAt: at))
            }
        }
    }

    public func importDocument(_ doc: ExportedDocument) throws {
        try checkDimensions(doc.record)
        guard doc.chunkIDs.count == doc.record.chunks.count else {
            throw RAGError.invalidInput("\(doc.record.path): \(doc.chunkIDs.count) chunk ids for \(doc.record.chunks.count) chunks")
        }
        try pool.transaction { s in
            try s.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", .text(doc.record.source + "\n" + doc.record.path))
            if let taken = try s.query("SELECT path FROM rag_documents WHERE id = $1 OR (source = $2 AND path = $3)",
                                       .int(doc.id), .text(doc.record.source), .text(doc.record.path)).first {
                throw RAGError.invalidInput("""
                    \(pool.location.redacted) already holds document \(doc.id) or \(doc.record.path) (\(try taken.decode(String.self))); \
                    migrate into an empty base
                    """)
            }
            _ = try insert(s, doc.record, ids: (doc.id, doc.chunkIDs), ingestedAt: doc.ingestedAt)
            // Rows written with explicit ids leave the identity sequences behind: move them past the largest id.
            for table in ["rag_documents", "rag_chunks"] {
                try s.execute("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), (SELECT max(id) FROM \(table)))")
            }
        }
    }

    /// Before a bulk import into an empty base: the HNSW index goes, so rows are written without
    /// walking the graph for each (`endBulkImport` builds it once over all of them, far faster).
    public func beginBulkImport() throws {
        try pool.with { s in try s.execute("DROP INDEX IF EXISTS rag_chunks_embedding") }
    }

    /// Builds the HNSW index over everything imported (also after a failed import: a base never
    /// stays without its index).
    public func endBulkImport() throws {
        try pool.transaction { s in
            // pgvector builds the graph in memory when it fits maintenance_work_mem (else far more
            // slowly on disk): room for the vectors and their links, within 64 MB … 2 GB, for this build only.
            let rows = try s.query("SELECT count(*) FROM rag_chunks").first?.decode(Int64.self) ?? 0
            let megabytes = min(2048, max(64, (Int(rows) * (embedder.dimension * 4 + 8 * 2 * parameters.M + 64) * 3 / 2) / (1 << 20)))
            try s.execute("SET LOCAL maintenance_work_mem = '\(megabytes)MB'")
            try s.execute(PostgresSchema.embeddingIndex(parameters))
            try s.execute(Self.mergeTotalsSQL)
            try s.execute("ANALYZE rag_chunks")  // the planner's statistics, at once rather than at autovacuum's next pass
        }
    }

    /// Replaces every vector of the base at `location` by `embedder`'s (a new dimension too),
    /// rebuilds the HNSW index and records the new embedder, in one transaction: a failure leaves
    /// the old base as it was, and other processes see the old vectors until it commits.
    public static func reembed(location: PostgresLocation, with embedder: any TextEmbedder, batchSize: Int = 32,
                               parameters: HNSWParameters = HNSWParameters(), progress: (Int, Int) -> Void = { _, _ in }) throws {
        let pool = try PostgresPool(location: location, maxIdle: 1)
        let exists = try pool.with { s in try !s.query("SELECT 1 FROM pg_tables WHERE tablename = 'rag_settings'").isEmpty }
        guard exists else { throw RAGError.invalidInput("\(location.redacted): no knowledge base here (nothing ingested)") }
        let chunks = try pool.with { s in
            try s.query("SELECT id, text FROM rag_chunks ORDER BY id").map { try $0.decode((Int64, String).self) }
        }
        var vectors: [(Int64, [Float])] = []
        vectors.reserveCapacity(chunks.count)
        for start in stride(from: 0, to: chunks.count, by: batchSize) {
            let batch = Array(chunks[start..<min(start + batchSize, chunks.count)])
            for ((id, _), v) in zip(batch, try embedder.embed(batch.map(\.1))) { vectors.append((id, v)) }
            progress(min(start + batchSize, chunks.count), chunks.count)
        }
        let dimension = embedder.identity.dimension
        try pool.transaction { s in
            try s.query("SELECT pg_advisory_xact_lock($1)", .int(PostgresSchema.lockKey))
            let now = try s.query("SELECT count(*) FROM rag_chunks").first?.decode(Int64.self) ?? 0
            guard now == Int64(chunks.count) else {
                throw RAGError.store("\(location.redacted) changed while re-embedding (\(chunks.count) chunks then, \(now) now); run rag reembed again")
            }
            try s.execute("DROP INDEX IF EXISTS rag_chunks_embedding")
            try s.execute("ALTER TABLE rag_chunks DROP COLUMN embedding")
            try s.execute("ALTER TABLE rag_chunks ADD COLUMN embedding vector(\(dimension))")
            for (id, v) in vectors {
                try s.query("UPDATE rag_chunks SET embedding = $1::real[]::vector WHERE id = $2", .floats(v), .int(id))
            }
            try s.execute("ALTER TABLE rag_chunks ALTER COLUMN embedding SET NOT NULL")
            try s.execute(PostgresSchema.embeddingIndex(parameters))
            for (key, value) in [("embedder", embedder.identity.name), ("dimension", String(dimension))] {
                try s.query("INSERT INTO rag_settings(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
                            .text(key), .text(value))
            }
        }
    }
}

extension PostgresKnowledgeBase {
    /// What must hold in a PostgreSQL base beyond what its constraints enforce: every document's
    /// chunks numbered 0…n−1 (a document written whole), every vector of the recorded dimension,
    /// the HNSW index present, the recorded size equal to the count.
    public static func check(location: PostgresLocation) throws -> [String] {
        let pool = try PostgresPool(location: location, maxIdle: 1)
        return try pool.transaction { s in
            try s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            guard try !s.query("SELECT 1 FROM pg_tables WHERE tablename = 'rag_settings'").isEmpty else {
                return ["\(location.redacted): no knowledge base here (nothing ingested)"]
            }
            var problems: [String] = []
            let settings = try readSettings(s)
            guard let dimension = settings["dimension"].flatMap(Int.init), settings["embedder"] != nil else {
                return ["rag_settings: no embedder recorded"]
            }
            let partial = try s.query("""
                SELECT d.path FROM rag_documents d JOIN rag_chunks c ON c.document_id = d.id
                GROUP BY d.id, d.path HAVING min(c.ordinal) <> 0 OR max(c.ordinal) <> count(*) - 1 ORDER BY d.path LIMIT 5
                """).map { try $0.decode(String.self) }
            if !partial.isEmpty { problems.append("documents with missing or repeated chunks: \(partial.joined(separator: ", "))") }
            let wrong = try s.query("SELECT count(*) FROM rag_chunks WHERE vector_dims(embedding) <> $1", .int(dimension))
                .first?.decode(Int64.self) ?? 0
            if wrong > 0 { problems.append("\(wrong) vectors without \(dimension) dimensions") }
            if try s.query("SELECT 1 FROM pg_indexes WHERE indexname = 'rag_chunks_embedding'").isEmpty {
                problems.append("the HNSW index rag_chunks_embedding is missing (an interrupted rag migrate?); searches scan every vector until it is rebuilt: "
                                + PostgresSchema.embeddingIndex(HNSWParameters()).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "))
            }
            if try !s.query("SELECT 1 FROM pg_tables WHERE tablename = 'rag_chunk_totals'").isEmpty,
               let drift = try totalsDrift(s) {
                problems.append("rag_chunk_totals records \(drift.recorded) chunks, the base holds \(drift.counted) (lexical scores use the recorded size): run rag compact to recount")
            }
            return problems
        }
    }
}
