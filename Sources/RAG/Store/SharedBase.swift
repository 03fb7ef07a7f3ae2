import Foundation
import VectorIndex

/// Several processes on one base (a server beside `rag ingest`, two ingests at once).
///
/// Everything but the HNSW graph is read from SQLite on each use, so it is always current. The
/// graph lives in memory and is written incrementally (the rows of the nodes a change touched);
/// writing from a stale graph would overwrite another process's rows. So each process remembers
/// SQLite's `PRAGMA data_version` of its write connection as of the graph it holds: the value
/// changes exactly when another connection (any process, any program) has committed to the file.
/// - Before each write, inside its BEGIN IMMEDIATE (nobody else can commit until COMMIT), a changed
///   version means reloading the graph from the file first: the write then starts from the
///   committed state, and nothing another process wrote is lost.
/// - Before each search (and `stats`), the same check outside a write: a search sees every commit
///   that finished before it began. When this process is itself writing at that moment the check
///   is skipped rather than wait for the write: that write reloads the graph before it changes it.
extension KnowledgeBase {
    /// `PRAGMA data_version` of `db`: unchanged by its own commits, changed by anyone else's.
    static func dataVersion(_ db: Database) throws -> Int64 {
        try db.query("PRAGMA data_version") { $0.int64(0) }.first ?? 0
    }

    /// The stored graph (or an empty one when none is stored yet) and the data version it was read at.
    static func loadIndex(_ db: Database, url: URL, dimension: Int, metric: Metric,
                          parameters: HNSWParameters) throws -> (HNSWIndex, Int64) {
        let read = { () throws -> (HNSWIndex, Int64) in
            let version = try dataVersion(db)
            let loaded: HNSWIndex?
            do { loaded = try HNSWIndex.load(from: db) } catch let e as VectorIndexError {
                throw RAGError.store("\(url.path): \(e); `rag status --check --db \(url.path)` lists the damage, `rag repair` rebuilds the index")
            }
            guard let loaded else {
                return (try HNSWIndex(dimension: dimension, metric: metric, parameters: parameters), version)
            }
            guard loaded.dimension == dimension else {
                throw RAGError.store("\(url.path): the vector index has \(loaded.dimension) dimensions, this process embeds with \(dimension) "
                                     + "(re-embedded by another process? restart with its embedder)")
            }
            return (loaded, version)
        }
        return db.isInTransaction ? try read() : try db.readTransaction(read)
    }

    /// Brings the in-memory graph up to what other processes committed (a no-op costing one
    /// PRAGMA when nothing changed). Skipped while this process is writing (see above).
    public func refresh() throws {
        refreshLock.lock()  // concurrent searches wait for one reload rather than skip it
        defer { refreshLock.unlock() }
        guard writeLock.try() else { return }
        defer { writeLock.unlock() }
        do { _ = try writer.readTransaction { try syncIndexLocked() } } catch let e as SQLiteError where e.isBusy {
            return  // a checkpoint or recovery holds the file for a moment: keep the graph we have
        }
    }
}
