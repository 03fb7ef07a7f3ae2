import Foundation
import Ingest
import VectorIndex

/// One knowledge base = one SQLite file: documents, chunks, the HNSW graph over chunk vectors and
/// the full-text index, changed together one document per transaction. A crash leaves every
/// document either fully in or fully out.
///
/// One writer at a time inside the process (`writeLock`); other processes wait on SQLite's busy
/// timeout and then get a clear error. Searches read through their own read-only connections,
/// which see the last committed state.
///
/// Several processes may share the file (see SharedBase.swift): the HNSW graph held in memory is
/// reloaded whenever another connection has committed, before each write (inside its
/// BEGIN IMMEDIATE) and before each search.
public final class KnowledgeBase: KnowledgeStore, @unchecked Sendable {
    public let url: URL
    public var location: StoreLocation { .sqlite(url) }
    public let embedder: EmbedderIdentity
    /// The graph as of the last commit this process has seen (replaced when another process commits).
    public var index: HNSWIndex { indexLock.withLock { current } }
    private var current: HNSWIndex
    private let indexLock = NSLock()
    /// `PRAGMA data_version` of `writer` when `current` was loaded: another connection's commit changes it.
    var seenVersion: Int64 = 0
    let lexical: LexicalIndex
    let writer: Database
    let readers: ReaderPool
    let writeLock = NSLock()
    let refreshLock = NSLock()
    let metric: Metric
    let parameters: HNSWParameters

    /// Opens (or creates) the base at `url` for vectors of `embedder`. A base made with another
    /// embedder is refused with instructions, unless `adoptEmbedder` (used by `rag reembed`).
    public init(url: URL, embedder: EmbedderIdentity, metric: Metric = .cosine, parameters: HNSWParameters = HNSWParameters()) throws {
        self.url = url
        self.embedder = embedder
        self.metric = metric
        self.parameters = parameters
        let db: Database
        do { db = try Database(path: url.path) } catch {
            throw RAGError.store("cannot open \(url.path): \(error)")
        }
        try Schema.migrate(db)
        try HNSWIndex.createTables(in: db)
        try LexicalIndex().createTables(in: db)

        if try !embedder.matchesRecorded(try Self.readSettings(db), base: url.path) {
            try db.transaction {
                try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES('embedder', ?)", .text(embedder.name))
                try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES('dimension', ?)", .text(String(embedder.dimension)))
            }
        }
        (current, seenVersion) = try Self.loadIndex(db, url: url, dimension: embedder.dimension, metric: metric, parameters: parameters)
        lexical = LexicalIndex()
        writer = db
        readers = ReaderPool(path: url.path)
    }

    static func readSettings(_ db: Database) throws -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in try db.query("SELECT key, value FROM settings", row: { ($0.string(0) ?? "", $0.string(1) ?? "") }) { out[k] = v }
        return out
    }

    // MARK: writing

    /// Runs `body` as the only writer of this process.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        writeLock.lock()
        defer { writeLock.unlock() }
        do { return try body(writer) } catch let e as SQLiteError where e.isBusy {
            throw RAGError.store("\(url.path) is locked by another writer (another `rag ingest`?); try again when it finishes")
        }
    }

    /// Runs `body` in one write transaction (BEGIN IMMEDIATE) with the graph brought up to date
    /// first: once SQLite's write lock is held nobody else can commit, so the graph `body` changes
    /// is exactly the committed one and its incremental row writes land on the rows it read.
    func writeTransaction<T>(_ body: (Database, HNSWIndex) throws -> T) throws -> T {
        try write { db in try db.transaction { try body(db, try syncIndexLocked()) } }
    }

    /// Replaces the in-memory graph by the stored one when another connection has committed since
    /// it was loaded. Call with `writeLock` held, inside a transaction on `writer` (so the version
    /// read and the graph loaded are of one snapshot).
    @discardableResult
    func syncIndexLocked() throws -> HNSWIndex {
        let version = try Self.dataVersion(writer)
        if version != seenVersion {
            let (fresh, _) = try Self.loadIndex(writer, url: url, dimension: embedder.dimension, metric: metric, parameters: parameters)
            indexLock.withLock { current = fresh }
            seenVersion = version
        }
        return index
    }

    public func setting(_ key: String) throws -> String? {
        try write { db in try db.query("SELECT value FROM settings WHERE key = ?", .text(key)) { $0.string(0) }.first ?? nil }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try write { db in try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES(?, ?)", .text(key), .text(value)) }
    }

    /// Replaces (or adds) one document with its chunks, vectors and text rows, in one transaction.
    @discardableResult
    public func put(_ doc: DocumentRecord) throws -> Int64 {
        try checkDimensions(doc)
        return try writeTransaction { db, index in
            if let old = try db.query("SELECT id FROM documents WHERE source = ? AND path = ?", .text(doc.source), .text(doc.path),
                                     row: { $0.int64(0) }).first {
                try removeDocumentLocked(db, index, id: old)
            }
            return try insertLocked(db, index, doc, ids: nil, ingestedAt: Date().timeIntervalSince1970)
        }
    }

    func checkDimensions(_ doc: DocumentRecord) throws {
        for (i, c) in doc.chunks.enumerated() where c.vector.count != embedder.dimension {
            throw RAGError.store("\(doc.path): chunk \(i) has a \(c.vector.count)-dimensional vector, the base holds \(embedder.dimension)")
        }
    }

    /// Inserts the document's rows, under the given ids (`rag migrate`) or new ones.
    func insertLocked(_ db: Database, _ index: HNSWIndex, _ doc: DocumentRecord,
                      ids given: (document: Int64, chunks: [Int64])?, ingestedAt: Double) throws -> Int64 {
        try db.run("""
            INSERT INTO documents(id, path, source, kind, bytes, mtime_ns, content_hash, pages, title, ingested_at)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, given.map { .integer($0.document) } ?? .null, .text(doc.path), .text(doc.source), .text(doc.kind),
            .integer(doc.bytes), .integer(doc.mtimeNanoseconds),
            .text(doc.contentHash), doc.pages.map { .integer(Int64($0)) } ?? .null, doc.title.map { .text($0) } ?? .null,
            .real(ingestedAt))
        let docID = db.lastInsertRowID
        let insertChunk = try db.prepare("""
            INSERT INTO chunks(id, document_id, ordinal, text, page, section, char_start, char_end, tokens)
            VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var ids: [Int64] = []
        ids.reserveCapacity(doc.chunks.count)
        for (ordinal, c) in doc.chunks.enumerated() {
            insertChunk.reset()
            try insertChunk.bind([given.map { .integer($0.chunks[ordinal]) } ?? .null,
                                  .integer(docID), .integer(Int64(ordinal)), .text(c.text),
                                  c.page.map { .integer(Int64($0)) } ?? .null, c.section.map { .text($0) } ?? .null,
                                  .integer(Int64(c.charStart)), .integer(Int64(c.charEnd)), .integer(Int64(c.tokens))]).run()
            let id = db.lastInsertRowID
            ids.append(id)
            try lexical.insert(chunkID: id, text: c.text, in: db)
        }
        try index.update(in: db) { index in
            for (id, c) in zip(ids, doc.chunks) { try index.insert(c.vector, label: id) }
        }
        return docID
    }

    /// Records a new modification time for a document whose content did not change.
    public func touch(documentID: Int64, mtimeNanoseconds: Int64) throws {
        try write { db in try db.run("UPDATE documents SET mtime_ns = ? WHERE id = ?", .integer(mtimeNanoseconds), .integer(documentID)) }
    }

    /// Removes a document with its chunks, graph nodes (neighbours repaired) and text rows.
    @discardableResult
    public func removeDocument(id: Int64) throws -> Bool {
        try writeTransaction { db, index in
            guard try db.query("SELECT 1 FROM documents WHERE id = ?", .integer(id), row: { _ in true }).first != nil else { return false }
            try removeDocumentLocked(db, index, id: id)
            return true
        }
    }

    func removeDocumentLocked(_ db: Database, _ index: HNSWIndex, id: Int64) throws {
        let chunkIDs = try db.query("SELECT id FROM chunks WHERE document_id = ?", .integer(id)) { $0.int64(0) }
        try lexical.remove(chunkIDs: chunkIDs, in: db)
        try index.update(in: db) { index in try index.remove(labels: chunkIDs.filter { index.contains($0) }) }
        try db.run("DELETE FROM documents WHERE id = ?", .integer(id))  // chunks and meta cascade
    }

    /// Reclaims the space that deletes freed (VACUUM) and truncates the write-ahead log.
    public func compact() throws {
        try write { db in
            try db.execute("VACUUM")
            try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    // MARK: reading

    public func documents(source: String?) throws -> [StoredDocument] {
        try readers.with { db in
            let sql = "SELECT id, path, source, bytes, mtime_ns, content_hash FROM documents"
                + (source == nil ? "" : " WHERE source = ?") + " ORDER BY path"
            let values: [SQLValue] = source.map { [.text($0)] } ?? []
            let stmt = try db.prepare(sql)
            _ = try stmt.bind(values)
            var out: [StoredDocument] = []
            while try stmt.step() {
                out.append(StoredDocument(id: stmt.int64(0), path: stmt.string(1) ?? "", source: stmt.string(2) ?? "",
                                          bytes: stmt.int64(3), mtimeNanoseconds: stmt.int64(4), contentHash: stmt.string(5) ?? ""))
            }
            return out
        }
    }

    public func storedDocument(id: Int64) throws -> StoredDocument? {
        try readers.with { db in
            try db.query("SELECT id, path, source, bytes, mtime_ns, content_hash FROM documents WHERE id = ?", .integer(id)) { s in
                StoredDocument(id: s.int64(0), path: s.string(1) ?? "", source: s.string(2) ?? "", bytes: s.int64(3),
                               mtimeNanoseconds: s.int64(4), contentHash: s.string(5) ?? "")
            }.first
        }
    }

    public func documentInfos(offset: Int, limit: Int) throws -> (total: Int, items: [DocumentInfo]) {
        try readers.with { db in
            let total = try db.query("SELECT count(*) FROM documents") { $0.int(0) }.first ?? 0
            let items = try db.query("""
                SELECT d.id, d.path, d.bytes, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id), d.pages, d.content_hash, d.ingested_at
                FROM documents d ORDER BY d.path LIMIT ? OFFSET ?
                """, .integer(Int64(max(0, limit))), .integer(Int64(max(0, offset)))) { s in
                DocumentInfo(id: s.int64(0), path: s.string(1) ?? "", bytes: s.int64(2), chunks: s.int(3),
                             pages: s.isNull(4) ? nil : s.int(4), contentHash: s.string(5) ?? "",
                             ingestedAt: Date(timeIntervalSince1970: s.double(6)))
            }
            return (total, items)
        }
    }

    public func document(id: Int64) throws -> DocumentInfo? {
        try readers.with { db in
            try db.query("""
                SELECT d.id, d.path, d.bytes, (SELECT count(*) FROM chunks c WHERE c.document_id = d.id), d.pages, d.content_hash, d.ingested_at
                FROM documents d WHERE d.id = ?
                """, .integer(id)) { s in
                DocumentInfo(id: s.int64(0), path: s.string(1) ?? "", bytes: s.int64(2), chunks: s.int(3),
                             pages: s.isNull(4) ? nil : s.int(4), contentHash: s.string(5) ?? "",
                             ingestedAt: Date(timeIntervalSince1970: s.double(6)))
            }.first
        }
    }

    /// The chunks with these ids (missing ids are left out: e.g. not yet committed).
    public func chunks(_ ids: [Int64]) throws -> [Int64: StoredChunk] {
        guard !ids.isEmpty else { return [:] }
        return try readers.with { db in
            let stmt = try db.prepare("""
                SELECT c.id, c.document_id, d.path, c.page, c.section, c.text
                FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?
                """)
            var out: [Int64: StoredChunk] = [:]
            for id in ids {
                stmt.reset()
                _ = try stmt.bind(1, id)
                if try stmt.step() {
                    out[id] = StoredChunk(id: stmt.int64(0), documentID: stmt.int64(1), path: stmt.string(2) ?? "",
                                          page: stmt.isNull(3) ? nil : stmt.int(3), section: stmt.string(4), text: stmt.string(5) ?? "")
                }
            }
            return out
        }
    }

    /// Chunk ids of the documents whose path matches `glob`.
    public func chunkIDs(matching glob: String) throws -> Set<Int64> {
        let g = Glob(glob)
        return try readers.with { db in
            var out = Set<Int64>()
            let rows = try db.query("SELECT c.id, d.path FROM chunks c JOIN documents d ON d.id = c.document_id") { ($0.int64(0), $0.string(1) ?? "") }
            for (id, path) in rows where g.matches(path) { out.insert(id) }
            return out
        }
    }

    /// Ranked chunk ids for a query (as text and as its embedding) in one of the three modes.
    public func search(mode: SearchMode, vector: [Float], text: String, k: Int, allowed: Set<Int64>?) throws -> [FusedHit] {
        try refresh()
        let index = self.index
        if index.count == 0 && mode == .vector { return [] }
        return try readers.with { db in
            try HybridSearch(index: index, lexical: lexical).search(mode: mode, vector: vector, text: text, k: k, allowed: allowed, in: db)
        }
    }

    public func stats() throws -> StoreStats {
        try refresh()
        return try readers.with { db in
            let docs = try db.query("SELECT count(*) FROM documents") { $0.int(0) }.first ?? 0
            let chunks = try db.query("SELECT count(*) FROM chunks") { $0.int(0) }.first ?? 0
            let fm = FileManager.default
            var bytes: Int64 = 0
            for suffix in ["", "-wal", "-shm"] {
                if let size = (try? fm.attributesOfItem(atPath: url.path + suffix))?[.size] as? NSNumber { bytes += size.int64Value }
            }
            return StoreStats(documents: docs, chunks: chunks, vectors: index.count, fileBytes: bytes,
                              embedder: embedder.name, dimension: embedder.dimension)
        }
    }
}
