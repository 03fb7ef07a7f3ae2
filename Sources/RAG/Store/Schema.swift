import VectorIndex

/// The knowledge base's own tables (the vector graph's and the full-text index's tables belong to
/// VectorIndex and live in the same file). Migrations run forward, one transaction each; the
/// version is in `settings`.
enum Schema {
    static let currentVersion = 2

    /// migrations[i] brings a base from version i to i + 1.
    static let migrations: [String] = [
        """
        CREATE TABLE IF NOT EXISTS settings(
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS documents(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,               -- 'folder:<absolute root>' (synced) or 'upload'
            path TEXT NOT NULL,                 -- relative to that root (or the upload folder)
            kind TEXT NOT NULL,
            bytes INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            pages INTEGER,
            title TEXT,
            ingested_at REAL NOT NULL,
            UNIQUE(source, path)
        );
        CREATE TABLE IF NOT EXISTS chunks(
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            text TEXT NOT NULL,
            page INTEGER,
            section TEXT,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            tokens INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
        CREATE TABLE IF NOT EXISTS document_meta(
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY(document_id, key)
        );
        """,
        // 2: background jobs (the server's folder re-syncs), shared by every server on the base.
        """
        CREATE TABLE IF NOT EXISTS jobs(
            id TEXT PRIMARY KEY NOT NULL,
            record TEXT NOT NULL,               -- the job as GET /v1/jobs/{id} returns it (JSON)
            updated_at REAL NOT NULL
        );
        """,
    ]

    /// Brings `db` to the current version; refuses a base written by a newer rag.
    static func migrate(_ db: Database) throws {
        try db.execute("CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
        let stored = try db.query("SELECT value FROM settings WHERE key = 'schema_version'") { $0.string(0) }.first ?? nil
        let version = stored.flatMap { Int($0) } ?? 0
        if version > currentVersion {
            throw RAGError.store("\(db.path) has schema version \(version); this rag knows up to \(currentVersion) — upgrade rag")
        }
        for v in version..<currentVersion {
            try db.transaction {
                try db.execute(migrations[v])
                try db.run("INSERT OR REPLACE INTO settings(key, value) VALUES('schema_version', ?)", .text(String(v + 1)))
            }
        }
    }
}
