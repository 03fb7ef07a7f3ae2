import Foundation
import VectorIndex

/// Where a knowledge base lives, and what it can do: the storage protocol the pipeline, the sync
/// and the server are written against. Two implementations: `KnowledgeBase` (one SQLite file, the
/// default) and `PostgresKnowledgeBase` (PostgreSQL with pgvector, shared by many processes).
///
/// Every method is synchronous and may block; the pipeline calls them off Swift's cooperative
/// pool (or briefly on it, as SQLite calls always were). Each write is one transaction: a crash
/// leaves every document either fully in or fully out.
public protocol KnowledgeStore: AnyObject, Sendable {
    /// The embedder whose vectors the base holds.
    var embedder: EmbedderIdentity { get }
    /// Where the base is, for messages (a file path, or the URL without its password).
    var location: StoreLocation { get }
    /// The vector index and its parameters, as `rag status` prints them.
    var indexDescription: String { get }

    func setting(_ key: String) throws -> String?
    func setSetting(_ key: String, _ value: String) throws

    /// Replaces (or adds) one document (by source and path) with its chunks, vectors and text rows.
    @discardableResult func put(_ doc: DocumentRecord) throws -> Int64
    /// Records a new modification time for a document whose content did not change.
    func touch(documentID: Int64, mtimeNanoseconds: Int64) throws
    /// Removes a document with its chunks, vectors and text rows; false when there is no such document.
    @discardableResult func removeDocument(id: Int64) throws -> Bool
    /// Gives the space that deletes freed back (SQLite: VACUUM; PostgreSQL: its autovacuum's job).
    func compact() throws

    func documents(source: String?) throws -> [StoredDocument]
    func storedDocument(id: Int64) throws -> StoredDocument?
    func documentInfos(offset: Int, limit: Int) throws -> (total: Int, items: [DocumentInfo])
    func document(id: Int64) throws -> DocumentInfo?
    /// The chunks with these ids (missing ids are left out: e.g. not yet committed).
    func chunks(_ ids: [Int64]) throws -> [Int64: StoredChunk]
    /// Chunk ids of the documents whose path matches `glob`.
    func chunkIDs(matching glob: String) throws -> Set<Int64>
    /// Every chunk's text with where it came from, in id order.
    func allChunks() throws -> [StoredChunk]

    /// Ranked chunk ids for a query (as text and as its embedding) in one of the three modes:
    /// vector (score −cosine distance), lexical, or both fused by RRF (k = 60).
    func search(mode: SearchMode, vector: [Float], text: String, k: Int, allowed: Set<Int64>?) throws -> [FusedHit]
    /// The k nearest chunks by brute force, ignoring the index (to measure the index's recall).
    func exactVectorSearch(_ query: [Float], k: Int) throws -> [Int64]
    /// Cosine similarity of `query` to each stored chunk vector of `ids` (absent ids are left out).
    func similarities(_ query: [Float], ids: [Int64]) throws -> [Int64: Double]
    func stats() throws -> StoreStats

    /// Stores a background job's record (JSON) under its id, replacing an earlier one: every
    /// server on the base can then answer for the job, whichever started it.
    func saveJob(id: String, record: String) throws
    /// A job's record, or nil when no job has that id.
    func job(id: String) throws -> String?

    /// Every document with its chunks and vectors and the ids they have here (for `rag migrate`).
    func exportDocuments(_ body: (ExportedDocument) throws -> Void) throws
    /// Writes a document under the ids it had in another base; refuses an id already taken.
    func importDocument(_ doc: ExportedDocument) throws
    /// Around many `importDocument`s into an empty base: a store may defer index work to the end.
    func beginBulkImport() throws
    func endBulkImport() throws

    /// Whether the store keeps uploaded documents' files itself, for every process on every
    /// machine (PostgreSQL), rather than leaving them to a folder beside the base (SQLite: the
    /// pipeline's `uploadsFolder`).
    var keepsUploadedFiles: Bool { get }
    /// Keeps the file of uploaded document `documentID` (replacing an earlier one).
    func saveUploadedFile(documentID: Int64, data: Data) throws
    /// The file of uploaded document `documentID`, or nil when the store has none.
    func uploadedFile(documentID: Int64) throws -> Data?
}

extension KnowledgeStore {
    public func documents() throws -> [StoredDocument] { try documents(source: nil) }
    public var keepsUploadedFiles: Bool { false }
    public func saveUploadedFile(documentID: Int64, data: Data) throws {
        throw RAGError.store("\(location) keeps uploaded files in a folder beside it, not in the base")
    }
    public func uploadedFile(documentID: Int64) throws -> Data? { nil }
    /// The SQLite graph is built as rows arrive: nothing to defer.
    public func beginBulkImport() throws {}
    public func endBulkImport() throws {}
}

/// A document as `rag migrate` carries it from one base to another: the record, its id, the ids
/// of its chunks (in order) and when it was ingested.
public struct ExportedDocument: Sendable {
    public var id: Int64
    public var record: DocumentRecord
    public var chunkIDs: [Int64]
    public var ingestedAt: Double
    public init(id: Int64, record: DocumentRecord, chunkIDs: [Int64], ingestedAt: Double) {
        self.id = id; self.record = record; self.chunkIDs = chunkIDs; self.ingestedAt = ingestedAt
    }
}

/// `--db` (or `RAG_DB`): a SQLite file path, or `postgres://user[:password]@host[:port]/dbname`.
public enum StoreLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(URL)
    case postgres(PostgresLocation)

    public init(_ text: String) throws {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(try PostgresLocation(url: text))
        } else {
            self = .sqlite(URL(fileURLWithPath: text))
        }
    }

    /// The SQLite file, or nil for PostgreSQL.
    public var fileURL: URL? {
        if case .sqlite(let url) = self { return url }
        return nil
    }

    public var description: String {
        switch self {
        case .sqlite(let url): return url.path
        case .postgres(let p): return p.redacted
        }
    }

    /// Where uploaded files are kept on this machine: a folder beside a SQLite base, owned by it;
    /// for a PostgreSQL base (which keeps the files itself) a cache of them, a folder per database
    /// under ~/.cache/rag/uploads.
    public var uploadsFolder: URL {
        switch self {
        case .sqlite(let file):
            return file.deletingLastPathComponent().appendingPathComponent(file.lastPathComponent + ".uploads", isDirectory: true)
        case .postgres(let p):
            return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/rag/uploads", isDirectory: true)
                .appendingPathComponent("\(p.host)_\(p.port)_\(p.database)", isDirectory: true)
        }
    }

    /// Throws when there is no base here yet (SQLite: no such file). A PostgreSQL database may
    /// hold an empty base; connecting is what tells.
    public func requireExisting() throws {
        guard case .sqlite(let url) = self, !FileManager.default.fileExists(atPath: url.path) else { return }
        throw RAGError.invalidInput("\(url.path): no knowledge base here yet (create one with: rag ingest FOLDER --db \(url.path))")
    }

    /// The problems found in the base (`rag status --check`; empty when it is sound), read without
    /// opening it, so a damaged base can always be examined.
    public func check() throws -> [String] {
        switch self {
        case .sqlite(let url): return try KnowledgeBase.check(url: url)
        case .postgres(let p): return try PostgresKnowledgeBase.check(location: p)
        }
    }

    /// Why a SQLite maintenance command does not apply to a PostgreSQL base.
    public static func postgresMaintenance(_ command: String) -> String {
        "\(command) rebuilds a SQLite base's own graph and full-text tables; on PostgreSQL the indexes are the "
            + "database's own, kept consistent by its transactions (amcheck and REINDEX TABLE rag_chunks are its DBA's tools)"
    }

    /// Replaces every vector of the base by `embedder`'s, in one transaction (`rag reembed`).
    public func reembed(with embedder: any TextEmbedder, progress: (Int, Int) -> Void = { _, _ in }) throws {
        switch self {
        case .sqlite(let url): try KnowledgeBase.reembed(url: url, with: embedder, progress: progress)
        case .postgres(let p): try PostgresKnowledgeBase.reembed(location: p, with: embedder, progress: progress)
        }
    }

    /// Opens (or creates) the base for vectors of `embedder`.
    public func open(embedder: EmbedderIdentity) throws -> any KnowledgeStore {
        switch self {
        case .sqlite(let url): return try KnowledgeBase(url: url, embedder: embedder)
        case .postgres(let p): return try PostgresKnowledgeBase(location: p, embedder: embedder)
        }
    }
}
