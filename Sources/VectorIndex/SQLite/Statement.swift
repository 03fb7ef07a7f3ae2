import CSQLite

/// A value bound to or read from a statement parameter.
public enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    /// Float32 vector stored as a little-endian BLOB.
    case floats([Float])
    case blob([UInt8])
    case null
}

/// A prepared statement. Parameters and columns are numbered as in SQLite: binds from 1, columns from 0.
public final class Statement {
    let handle: OpaquePointer
    unowned let database: Database
    public let sql: String

    init(database: Database, sql: String) throws {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(database.handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw SQLiteError(code: rc, message: database.lastMessage, sql: sql)
        }
        self.handle = stmt
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    private func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: database.lastMessage, sql: sql) }
    }

    // MARK: binds

    @discardableResult
    public func bind(_ index: Int32, _ value: Int64) throws -> Statement {
        try check(sqlite3_bind_int64(handle, index, value)); return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: Int) throws -> Statement { try bind(index, Int64(value)) }

    @discardableResult
    public func bind(_ index: Int32, _ value: Double) throws -> Statement {
        try check(sqlite3_bind_double(handle, index, value)); return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: String) throws -> Statement {
        try check(sqlite3_bind_text(handle, index, value, -1, csqlite_transient())); return self
    }

    /// Binds raw bytes (copied by SQLite).
    @discardableResult
    public func bind(_ index: Int32, bytes: UnsafeRawBufferPointer) throws -> Statement {
        // A zero-length BLOB must still be a BLOB, not NULL: SQLite treats a nil pointer as NULL.
        if bytes.count == 0 { try check(sqlite3_bind_zeroblob(handle, index, 0)); return self }
        try check(sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), csqlite_transient()))
        return self
    }

    /// Binds raw bytes that SQLite reads in place (SQLITE_STATIC, no copy): they must stay valid
    /// and unchanged until the statement's next `run()`, `reset()` or rebind of `index`.
    @discardableResult
    func bind(_ index: Int32, borrowing bytes: UnsafeRawBufferPointer) throws -> Statement {
        if bytes.count == 0 { try check(sqlite3_bind_zeroblob(handle, index, 0)); return self }
        try check(sqlite3_bind_blob(handle, index, bytes.baseAddress, Int32(bytes.count), csqlite_static()))
        return self
    }

    /// Binds Float32 values as a little-endian BLOB.
    @discardableResult
    public func bind(_ index: Int32, floats: UnsafeBufferPointer<Float>) throws -> Statement {
        #if _endian(little)
        return try bind(index, bytes: UnsafeRawBufferPointer(floats))
        #else
        let swapped = floats.map { $0.bitPattern.littleEndian }
        return try swapped.withUnsafeBytes { try bind(index, bytes: $0) }
        #endif
    }

    @discardableResult
    public func bind(_ index: Int32, floats: [Float]) throws -> Statement {
        try floats.withUnsafeBufferPointer { try bind(index, floats: $0) }
    }

    /// Binds Int32 values as a little-endian BLOB.
    @discardableResult
    public func bind(_ index: Int32, int32s: [Int32]) throws -> Statement {
        let le = int32s.map { $0.littleEndian }
        return try le.withUnsafeBytes { try bind(index, bytes: $0) }
    }

    @discardableResult
    public func bindNull(_ index: Int32) throws -> Statement {
        try check(sqlite3_bind_null(handle, index)); return self
    }

    @discardableResult
    public func bind(_ index: Int32, _ value: SQLValue) throws -> Statement {
        switch value {
        case .integer(let v): return try bind(index, v)
        case .real(let v): return try bind(index, v)
        case .text(let v): return try bind(index, v)
        case .floats(let v): return try bind(index, floats: v)
        case .blob(let v): return try v.withUnsafeBytes { try bind(index, bytes: $0) }
        case .null: return try bindNull(index)
        }
    }

    /// Binds values to parameters 1, 2, … in order.
    @discardableResult
    public func bind(_ values: [SQLValue]) throws -> Statement {
        for (i, v) in values.enumerated() { try bind(Int32(i + 1), v) }
        return self
    }

    // MARK: stepping

    /// Advances to the next row; false when the statement is done.
    @discardableResult
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = SQLiteError(code: rc, message: database.lastMessage, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
    }

    /// Resets for another execution and clears the binds.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Runs to completion (for statements that return no rows), then resets.
    public func run() throws {
        defer { reset() }
        while try step() {}
    }

    // MARK: columns

    public var columnCount: Int32 { sqlite3_column_count(handle) }

    public func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    public func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(handle, column)) }

    public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    public func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(handle, column) else { return nil }
        return String(cString: text)
    }

    /// The column's bytes, valid until the next step/reset.
    public func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let base = sqlite3_column_blob(handle, column) else {
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        return UnsafeRawBufferPointer(start: base, count: count)
    }

    public func blob(_ column: Int32) -> [UInt8] { Array(bytes(column)) }

    /// A little-endian Float32 BLOB column; throws when its length is not a multiple of 4.
    public func floats(_ column: Int32) throws -> [Float] {
        let raw = bytes(column)
        guard raw.count % 4 == 0 else {
            throw SQLiteError(code: SQLITE_MISMATCH,
                              message: "column \(column) holds \(raw.count) bytes, not a Float32 vector", sql: sql)
        }
        return (0..<raw.count / 4).map {
            Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
    }
}
