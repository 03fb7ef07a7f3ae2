import Foundation
import Ingest
import PostgresNIO
import VectorIndex

/// A knowledge base in PostgreSQL: documents and chunks in tables, each chunk's vector in a
/// pgvector column with an HNSW index (`vector_cosine_ops`), its words in a `tsvector` column with
/// a GIN index, fused as the SQLite base fuses them (RRF, k = 60).
///
/// Many processes share it (servers behind a load balancer, ingests side by side): every read is
/// a query, so it sees every commit; each document is written in one transaction, under an
/// advisory lock on its (source, path), so two writers of one document follow each other and
/// neither update is lost. Deleted rows are reclaimed by PostgreSQL's (auto)vacuum, as the DBA has
/// set it up; `compact` leaves that to them.
public final class PostgresKnowledgeBase: KnowledgeStore, @unchecked Sendable {
    public let embedder: EmbedderIdentity
    public let parameters: HNSWParameters
    let pool: PostgresPool
    /// The text-search configuration the base was created with (besides `simple`).
    let language: String
    /// How many candidates each ranking contributes to the hybrid fusion (as HybridSearch).
    let candidates = 50

    public var location: StoreLocation { .postgres(pool.location) }
    public var indexDescription: String {
        "pgvector HNSW, vector_cosine_ops, m \(parameters.M), ef_construction \(parameters.efConstruction), "
            + "hnsw.ef_search \(parameters.efSearch); tsvector/GIN (simple + \(language))"
    }

    /// Opens (or creates) the base in the database at `location` for vectors of `embedder`. A base
    /// made with another embedder is refused with instructions.
    public init(location: PostgresLocation, embedder: EmbedderIdentity, parameters: HNSWParameters = HNSWParameters()) throws {
        self.embedder = embedder
        self.parameters = parameters
        pool = try PostgresPool(location: location)
        try PostgresSchema.prepare(pool, dimension: embedder.dimension, parameters: parameters)
        language = try pool.transaction { s in
            try s.query("SELECT pg_advisory_xact_lock($1)", .int(PostgresSchema.lockKey))
            let settings = try Self.readSettings(s)
            if try !embedder.matchesRecorded(settings, base: location.redacted) {
                try s.query("INSERT INTO rag_settings(key, value) VALUES('embedder', $1), ('dimension', $2), ('text_search', $3)",
                            .text(embedder.name), .text(String(embedder.dimension)), .text(location.textSearch))
            }
            return settings["text_search"] ?? location.textSearch
        }
    }

    static func readSettings(_ s: PostgresSession) throws -> [String: String] {
        var out: [String: String] = [:]
        for row in try s.query("SELECT key, value FROM rag_settings") {
            let (k, v) = try row.decode((String, String).self)
            out[k] = v
        }
        return out
    }

    public func setting(_ key: String) throws -> String? {
        try pool.with { s in try s.query("SELECT value FROM rag_settings WHERE key = $1", .text(key)).first?.decode(String.self) }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try pool.with { s in
            try s.query("INSERT INTO rag_settings(key, value) VALUES($1, $2) ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value",
                        .text(key), .text(value))
        }
    }

    public func saveJob(id: String, record: String) throws {
        try pool.with { s in
            try s.query("""
                INSERT INTO rag_jobs(id, record, updated_at) VALUES($1, $2, $3)
                ON CONFLICT(id) DO UPDATE SET record = EXCLUDED.record, updated_at = EXCLUDED.updated_at
                """, .text(id), .text(record), .double(Date().timeIntervalSince1970))
        }
    }

    public func job(id: String) throws -> String? {
        try pool.with { s in try s.query("SELECT record FROM rag_jobs WHERE id = $1", .text(id)).first?.decode(String.self) }
    }

    // MARK: writing

    @discardableResult
    public func put(_ doc: DocumentRecord) throws -> Int64 {
        try checkDimensions(doc)
        return try pool.transaction { s in
            try lockDocument(s, doc)
            _ = try deleteDocuments(s, where: "source = $1 AND path = $2", [.text(doc.source), .text(doc.path)])
            return try insert(s, doc, ids: nil, ingestedAt: Date().timeIntervalSince1970)
        }
    }

    /// Serialises writers of one document (any process) until the transaction ends.
    private func lockDocument(_ s: PostgresSession, _ doc: DocumentRecord) throws {
        try s.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", .text(doc.source + "\n" + doc.path))
    }

    func checkDimensions(_ doc: DocumentRecord) throws {
        for (i, c) in doc.chunks.enumerated() where c.vector.count != embedder.dimension {
            throw RAGError.store("\(doc.path): chunk \(i) has a \(c.vector.count)-dimensional vector, the base holds \(embedder.dimension)")
        }
    }

    func insert(_ s: PostgresSession, _ doc: DocumentRecord, ids: (document: Int64, chunks: [Int64])?,
                        ingestedAt: Double) throws -> Int64 {
        let idColumn = ids == nil ? "" : "id, "
        let idValue: [PGValue] = ids.map { [.int($0.document)] } ?? []
        let p = ids == nil ? 0 : 1
        guard let docID = try s.query("""
            INSERT INTO rag_documents(\(idColumn)path, source, kind, bytes, mtime_ns, content_hash, pages, title, ingested_at)
            VALUES(\((1...9 + p).map { "$\($0)" }.joined(separator: ", "))) RETURNING id
            """, idValue + [.text(doc.path), .text(doc.source), .text(doc.kind), .int(doc.bytes), .int(doc.mtimeNanoseconds),
                            .text(doc.contentHash), .optional(doc.pages), .optional(doc.title), .double(ingestedAt)]
        ).first?.decode(Int64.self) else { throw RAGError.store("\(doc.path): the document row was not written") }
        let insertChunk = """
            INSERT INTO rag_chunks(\(idColumn)document_id, ordinal, text, page, section, char_start, char_end, tokens, embedding, lexemes)
            VALUES(\((1...8 + p).map { "$\($0)" }.joined(separator: ", ")), $\(9 + p)::real[]::vector,
                   \(CJKBigrams.lexemesSQL(text: "$\(3 + p)", bigrams: "$\(10 + p)", language: language)))
            """
        for (ordinal, c) in doc.chunks.enumerated() {
            let chunkID: [PGValue] = ids.map { [.int($0.chunks[ordinal])] } ?? []
            try s.query(insertChunk, chunkID + [.int(docID), .int(ordinal), .text(c.text), .optional(c.page), .optional(c.section),
                                                .int(c.charStart), .int(c.charEnd), .int(c.tokens), .floats(c.vector),
                                                .text(CJKBigrams.documentText(c.text))])
        }
        try recordAdded(s, doc)
        return docID
    }

    public func touch(documentID: Int64, mtimeNanoseconds: Int64) throws {
        try pool.with { s in
            try s.query("UPDATE rag_documents SET mtime_ns = $1 WHERE id = $2", .int(mtimeNanoseconds), .int(documentID))
        }
    }

    @discardableResult
    public func removeDocument(id: Int64) throws -> Bool {
        try pool.transaction { s in try deleteDocuments(s, where: "id = $1", [.int(id)]) > 0 }
    }

    /// Space is not ours to reclaim here: PostgreSQL's autovacuum reclaims deleted rows (and the DBA
    /// decides when to run VACUUM FULL or REINDEX); a client that ran them would take locks the DBA
    /// did not plan. What `rag compact` does do is recount the base's size (`rag_chunk_totals`).
    public func compact() throws { try recountTotals() }

    // MARK: reading

    public func documents(source: String?) throws -> [StoredDocument] {
        try pool.with { s in
            let sql = "SELECT id, path, source, bytes, mtime_ns, content_hash FROM rag_documents"
                + (source == nil ? "" : " WHERE source = $1") + " ORDER BY path"
            return try s.query(sql, source.map { [.text($0)] } ?? []).map(Self.decodeStoredDocument)
        }
    }

    public func storedDocument(id: Int64) throws -> StoredDocument? {
        try pool.with { s in
            try s.query("SELECT id, path, source, bytes, mtime_ns, content_hash FROM rag_documents WHERE id = $1", .int(id))
                .first.map(Self.decodeStoredDocument)
        }
    }

    private static func decodeStoredDocument(_ row: PostgresRow) throws -> StoredDocument {
        let (id, path, source, bytes, mtime, hash) = try row.decode((Int64, String, String, Int64, Int64, String).self)
        return StoredDocument(id: id, path: path, source: source, bytes: bytes, mtimeNanoseconds: mtime, contentHash: hash)
    }

    private static let documentInfoColumns = """
        SELECT d.id, d.path, d.bytes, (SELECT count(*) FROM rag_chunks c WHERE c.document_id = d.id), d.pages, d.content_hash, d.ingested_at
        FROM rag_documents d
        """

    private static func decodeDocumentInfo(_ row: PostgresRow) throws -> DocumentInfo {
        let (id, path, bytes, chunks, pages, hash, at) = try row.decode((Int64, String, Int64, Int64, Int32?, String, Double).self)
        return DocumentInfo(id: id, path: path, bytes: bytes, chunks: Int(chunks), pages: pages.map(Int.init), contentHash: hash,
                            ingestedAt: Date(timeIntervalSince1970: at))
    }

    public func documentInfos(offset: Int, limit: Int) throws -> (total: Int, items: [DocumentInfo]) {
        try pool.transaction { s in  // one snapshot for the count and the page
            try s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            let total = try s.query("SELECT count(*) FROM rag_documents").first?.decode(Int64.self) ?? 0
            let items = try s.query(Self.documentInfoColumns + " ORDER BY d.path LIMIT $1 OFFSET $2",
                                    .int(max(0, limit)), .int(max(0, offset))).map(Self.decodeDocumentInfo)
            return (Int(total), items)
        }
    }

    public func document(id: Int64) throws -> DocumentInfo? {
        try pool.with { s in try s.query(Self.documentInfoColumns + " WHERE d.id = $1", .int(id)).first.map(Self.decodeDocumentInfo) }
    }

    private static func decodeChunk(_ row: PostgresRow) throws -> StoredChunk {
        let (id, doc, path, page, section, text) = try row.decode((Int64, Int64, String, Int32?, String?, String).self)
        return StoredChunk(id: id, documentID: doc, path: path, page: page.map(Int.init), section: section, text: text)
    }

    public func chunks(_ ids: [Int64]) throws -> [Int64: StoredChunk] {
        guard !ids.isEmpty else { return [:] }
        return try pool.with { s in
            var out: [Int64: StoredChunk] = [:]
            for row in try s.query("""
                SELECT c.id, c.document_id, d.path, c.page, c.section, c.text
                FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id WHERE c.id = ANY($1)
                """, .ints(ids)) {
                let chunk = try Self.decodeChunk(row)
                out[chunk.id] = chunk
            }
            return out
        }
    }

    public func chunkIDs(matching glob: String) throws -> Set<Int64> {
        let g = Glob(glob)
        return try pool.transaction { s in
            try s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            let documents = try s.query("SELECT id, path FROM rag_documents").compactMap { row -> Int64? in
                let (id, path) = try row.decode((Int64, String).self)
                return g.matches(path) ? id : nil
            }
            guard !documents.isEmpty else { return [] }
            return Set(try s.query("SELECT id FROM rag_chunks WHERE document_id = ANY($1)", .ints(documents)).map { try $0.decode(Int64.self) })
        }
    }

    public func allChunks() throws -> [StoredChunk] {
        try pool.with { s in
            try s.query("""
                SELECT c.id, c.document_id, d.path, c.page, c.section, c.text
                FROM rag_chunks c JOIN rag_documents d ON d.id = c.document_id ORDER BY c.id
                """).map(Self.decodeChunk)
        }
    }

    public func stats() throws -> StoreStats {
        try pool.with { s in
            guard let row = try s.query("""
                SELECT (SELECT count(*) FROM rag_documents), (SELECT coalesce(sum(chunks), 0) FROM rag_chunk_totals)::int8,
                       pg_total_relation_size('rag_documents') + pg_total_relation_size('rag_chunks') + pg_total_relation_size('rag_settings')
                """).first else { throw RAGError.store("\(pool.location.redacted): no statistics") }
            let (docs, chunks, bytes) = try row.decode((Int64, Int64, Int64).self)
            return StoreStats(documents: Int(docs), chunks: Int(chunks), vectors: Int(chunks), fileBytes: bytes,
                              embedder: embedder.name, dimension: embedder.dimension)
        }
    }
}
