import CSQLite

/// One SQLite connection. A connection is used from one thread at a time; concurrent readers open
/// their own read-only connections (WAL gives each read transaction a consistent snapshot).
public final class Database {
    public enum Mode: Sendable { case readWrite, readOnly }

    let handle: OpaquePointer
    public let path: String
    public let mode: Mode
    /// Callbacks of the open transaction, one frame per nesting level (transaction, then savepoints).
    private var frames: [TransactionFrame] = []
    private var savepointCounter = 0

    private struct TransactionFrame {
        var onCommit: [() -> Void] = []
        var onRollback: [() -> Void] = []
    }

    /// Opens (creating in read-write mode) the database at `path`. A new read-write database gets
    /// `page_size=8192` before WAL and before its first table; every read-write connection gets
    /// `synchronous=NORMAL`, `foreign_keys=ON` and the busy timeout.
    public init(path: String, mode: Mode = .readWrite, busyTimeout: Double = 5) throws {
        var db: OpaquePointer?
        let flags = mode == .readOnly
            ? SQLITE_OPEN_READONLY
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        self.handle = db
        self.path = path
        self.mode = mode
        sqlite3_busy_timeout(db, Int32(max(0, busyTimeout * 1000)))
        sqlite3_extended_result_codes(db, 1)
        if mode == .readWrite {
            // page_size only takes effect before the first table and before WAL is switched on.
            try execute("PRAGMA page_size=8192")
            try execute("PRAGMA journal_mode=WAL")
            try execute("PRAGMA synchronous=NORMAL")
        }
        try execute("PRAGMA foreign_keys=ON")
    }

    deinit { sqlite3_close_v2(handle) }

    var lastMessage: String { String(cString: sqlite3_errmsg(handle)) }

    /// SQLite's library version, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    // MARK: running SQL

    /// Runs one or more statements that return no rows of interest.
    public func execute(_ sql: String) throws {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? lastMessage
            sqlite3_free(errmsg)
            throw SQLiteError(code: rc, message: message, sql: sql)
        }
    }

    public func prepare(_ sql: String) throws -> Statement { try Statement(database: self, sql: sql) }

    /// Prepares, binds `values` to parameters 1… and runs a statement that returns no rows.
    public func run(_ sql: String, _ values: SQLValue...) throws {
        try prepare(sql).bind(values).run()
    }

    /// Runs a query and maps each row.
    public func query<T>(_ sql: String, _ values: SQLValue..., row: (Statement) throws -> T) throws -> [T] {
        let stmt = try prepare(sql).bind(values)
        var out: [T] = []
        while try stmt.step() { out.append(try row(stmt)) }
        return out
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    /// True inside BEGIN … COMMIT (ours or one the caller opened with SQL).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: transactions

    /// Runs `body` in BEGIN IMMEDIATE … COMMIT; rolls back when it throws. A second writer waits up
    /// to the busy timeout for the write lock, then fails with an error that says so.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        guard frames.isEmpty, !isInTransaction else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "transaction inside a transaction: use savepoint { }")
        }
        do {
            try execute("BEGIN IMMEDIATE")
        } catch let error as SQLiteError where error.isBusy {
            throw SQLiteError(code: error.code, message: "database is locked by another writer "
                + "(waited for the busy timeout): \(error.message) (\(path))", sql: error.sql)
        }
        frames = [TransactionFrame()]
        let result: T
        do {
            result = try body()
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            let frame = frames.first ?? TransactionFrame()
            frames = []
            for undo in frame.onRollback.reversed() { undo() }
            throw error
        }
        let frame = frames.first ?? TransactionFrame()
        frames = []
        for done in frame.onCommit { done() }
        return result
    }

    /// Runs `body` in a read transaction: every read inside sees one snapshot of the database.
    public func readTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN DEFERRED")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs `body` in a savepoint inside the open transaction (or as its own transaction if none is
    /// open); a throw rolls back to the savepoint only and runs the rollback callbacks registered in it.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        guard !frames.isEmpty else { return try transaction(body) }
        savepointCounter += 1
        let name = "sp\(savepointCounter)"
        try execute("SAVEPOINT \(name)")
        frames.append(TransactionFrame())
        do {
            let result = try body()
            try execute("RELEASE \(name)")
            let frame = frames.removeLast()
            frames[frames.count - 1].onCommit += frame.onCommit
            frames[frames.count - 1].onRollback += frame.onRollback
            return result
        } catch {
            try? execute("ROLLBACK TO \(name)")
            try? execute("RELEASE \(name)")
            let frame = frames.removeLast()
            for undo in frame.onRollback.reversed() { undo() }
            throw error
        }
    }

    /// True inside `transaction { }` (callbacks can be registered).
    public var hasTransactionScope: Bool { !frames.isEmpty }

    /// Registers callbacks on the innermost open `transaction`/`savepoint`: `rollback` runs if it rolls
    /// back (callbacks in reverse order of registration), `commit` when the outer transaction commits.
    public func onEnd(commit: @escaping () -> Void, rollback: @escaping () -> Void) throws {
        guard !frames.isEmpty else {
            throw SQLiteError(code: SQLITE_MISUSE, message: "no transaction { } open to register callbacks on")
        }
        frames[frames.count - 1].onCommit.append(commit)
        frames[frames.count - 1].onRollback.append(rollback)
    }
}
