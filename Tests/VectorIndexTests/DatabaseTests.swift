import XCTest
@testable import VectorIndex

final class DatabaseTests: XCTestCase {
    func testPragmasAndTypedRoundTrip() throws {
        let db = try Database(path: temporaryDatabasePath())
        XCTAssertEqual(try db.query("PRAGMA page_size") { $0.int(0) }, [8192])
        XCTAssertEqual(try db.query("PRAGMA journal_mode") { $0.string(0) }, ["wal"])
        XCTAssertEqual(try db.query("PRAGMA foreign_keys") { $0.int(0) }, [1])
        XCTAssertEqual(try db.query("PRAGMA synchronous") { $0.int(0) }, [1])
        try db.execute("CREATE TABLE t(i INTEGER, r REAL, s TEXT, v BLOB, n)")
        let v: [Float] = [1.5, -2.25, .greatestFiniteMagnitude, 0]
        try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", .integer(-7), .real(0.125), .text("héllo ✓"), .floats(v), .null)
        let stmt = try db.prepare("SELECT i, r, s, v, n FROM t")
        XCTAssertTrue(try stmt.step())
        XCTAssertEqual(stmt.int64(0), -7)
        XCTAssertEqual(stmt.double(1), 0.125)
        XCTAssertEqual(stmt.string(2), "héllo ✓")
        XCTAssertEqual(try stmt.floats(3), v)
        XCTAssertEqual(stmt.blob(3).count, 16)
        XCTAssertEqual(stmt.blob(3).prefix(4), [0x00, 0x00, 0xC0, 0x3F])  // 1.5 little-endian
        XCTAssertTrue(stmt.isNull(4))
        XCTAssertFalse(try stmt.step())
    }

    func testErrorsCarryMessageAndSQL() throws {
        let db = try Database(path: temporaryDatabasePath())
        XCTAssertThrowsError(try db.prepare("SELEC 1")) { error in
            let e = error as? SQLiteError
            XCTAssertEqual(e?.sql, "SELEC 1")
            XCTAssertTrue(e?.message.contains("syntax error") ?? false, "\(error)")
        }
    }

    func testTransactionRollsBackOnThrowAndRunsCallbacks() throws {
        let db = try Database(path: temporaryDatabasePath())
        try db.execute("CREATE TABLE t(x)")
        var log: [String] = []
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            try db.onEnd(commit: { log.append("commit") }, rollback: { log.append("rollback") })
            throw Boom()
        })
        try db.transaction {
            try db.run("INSERT INTO t VALUES (2)")
            try db.onEnd(commit: { log.append("commit") }, rollback: { log.append("rollback") })
        }
        XCTAssertEqual(try db.query("SELECT x FROM t") { $0.int(0) }, [2])
        XCTAssertEqual(log, ["rollback", "commit"])
        XCTAssertFalse(db.isInTransaction)
    }

    func testReaderSeesOldSnapshotDuringWrite() throws {
        let path = temporaryDatabasePath()
        let writer = try Database(path: path)
        try writer.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        let reader = try Database(path: path, mode: .readOnly)
        try writer.execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);")
        XCTAssertEqual(try reader.query("SELECT count(*) FROM t") { $0.int(0) }, [1])
        try reader.readTransaction {
            XCTAssertEqual(try reader.query("SELECT count(*) FROM t") { $0.int(0) }, [1])
            try writer.execute("COMMIT")
            // Still inside its read transaction: the snapshot does not move.
            XCTAssertEqual(try reader.query("SELECT count(*) FROM t") { $0.int(0) }, [1])
        }
        XCTAssertEqual(try reader.query("SELECT count(*) FROM t") { $0.int(0) }, [2])
        XCTAssertThrowsError(try reader.execute("INSERT INTO t VALUES (3)"))
    }

    func testSecondWriterWaitsThenFailsClearly() throws {
        let path = temporaryDatabasePath()
        let first = try Database(path: path)
        try first.execute("CREATE TABLE t(x)")
        let second = try Database(path: path, busyTimeout: 0.1)
        try first.transaction {
            let start = Date()
            XCTAssertThrowsError(try second.transaction { try second.run("INSERT INTO t VALUES (1)") }) { error in
                XCTAssertTrue((error as? SQLiteError)?.isBusy ?? false, "\(error)")
                XCTAssertTrue("\(error)".contains("locked by another writer"), "\(error)")
            }
            XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.09)
        }
        try second.transaction { try second.run("INSERT INTO t VALUES (1)") }
    }
}
