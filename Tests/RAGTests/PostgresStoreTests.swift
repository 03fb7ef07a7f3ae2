import Foundation
import ServerTestSupport
import VectorIndex
import XCTest
@testable import RAG

/// The store contract on PostgreSQL with pgvector (a new database per test on the server test.sh
/// starts), then what only a PostgreSQL base does: `rag migrate` both ways and its errors.
final class PostgresStoreTests: SQLiteStoreTests {
    var url: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard try TestPostgres.available() != nil else { throw XCTSkip(TestPostgres.missing) }
        url = try TestPostgres.createDatabase()
    }

    override func tearDownWithError() throws {
        if let url { TestPostgres.dropDatabase(url) }
        try super.tearDownWithError()
    }

    override func location() throws -> StoreLocation { try StoreLocation(url) }

    override func testPutSearchReplaceRemove() throws { try runPutSearchReplaceRemove() }
    override func testChunksAndSimilarities() throws { try runChunksAndSimilarities() }
    override func testReopenGivesIdenticalResults() throws { try runReopenGivesIdenticalResults() }
    override func testAnotherEmbedderIsRefusedWithInstructions() throws { try runAnotherEmbedderIsRefusedWithInstructions() }
    override func testGlobFilterAlwaysFillsK() throws { try runGlobFilterAlwaysFillsK() }
    override func testSettings() throws { try runSettings() }
    override func testConcurrentWriters() throws { try runConcurrentWriters() }

    /// With one connection allowed, concurrent callers wait their turn instead of failing.
    func testPoolSizeMakesCallersWait() throws {
        let kb = try StoreLocation(url + "?pool_size=1").open(embedder: identity)
        let docs = (0..<8).map { record("p\($0).md", texts: ["pool \($0)"], axis: $0) }
        let queries = (0..<8).map { vector($0) }
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            do { try kb.put(docs[i]); _ = try kb.search(mode: .hybrid, vector: queries[i], text: "pool", k: 3, allowed: nil) }
            catch { failures.add() }
        }
        XCTAssertEqual(failures.value, 0)
        XCTAssertEqual(try kb.stats().documents, 8)
    }

    override func testCompactFreesSpaceOfDeletes() throws {
        let kb = try open()
        for i in 0..<5 { try kb.put(record("d\(i).txt", texts: ["text \(i)"], axis: i)) }
        try kb.compact()  // space is autovacuum's job: only the base's size is recounted, nothing breaks
        XCTAssertEqual(try kb.stats().documents, 5)
        XCTAssertGreaterThan(try kb.stats().fileBytes, 0)
    }

    /// The base's size BM25 reads (`rag_chunk_totals`, deltas per document) follows puts,
    /// replacements and removals; `status --check` reports a drift and `compact` recounts.
    func testChunkTotalsFollowWrites() throws {
        let kb = try XCTUnwrap(try open() as? PostgresKnowledgeBase)
        for i in 0..<40 { try kb.put(record("d\(i).md", texts: ["a \(i)", "b"], axis: i)) }  // enough writes to merge at random
        try kb.put(record("d0.md", texts: ["one"], axis: 0))
        XCTAssertTrue(try kb.removeDocument(id: XCTUnwrap(kb.documents().first { $0.path == "d1.md" }).id))
        XCTAssertEqual(try kb.stats().chunks, 40 * 2 - 1 - 2)
        XCTAssertEqual(try location().check(), [])
        try kb.pool.with { try $0.execute("INSERT INTO rag_chunk_totals VALUES(5, 0)") }
        let problems = try location().check()
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems.first?.contains("82 chunks, the base holds 77") == true && problems.first?.contains("rag compact") == true, "\(problems)")
        try kb.compact()
        XCTAssertEqual(try location().check(), [])
        XCTAssertEqual(try kb.stats().chunks, 77)
    }

    /// A base made by the first schema (no `rag_chunk_totals`, no `rag_uploaded_files`) is migrated
    /// when opened: the tables appear, the totals with the base's size, and the schema version says 2.
    func testSchemaOneIsMigrated() throws {
        let kb = try XCTUnwrap(try open() as? PostgresKnowledgeBase)
        for i in 0..<3 { try kb.put(record("d\(i).md", texts: ["x \(i)", "y", "z"], axis: i)) }
        try kb.pool.with { s in
            try s.execute("DROP TABLE rag_chunk_totals")
            try s.execute("DROP TABLE rag_uploaded_files")
            try s.execute("UPDATE rag_schema SET version = 1")
        }
        let reopened = try XCTUnwrap(try open() as? PostgresKnowledgeBase)
        XCTAssertEqual(try reopened.stats().chunks, 9)
        XCTAssertEqual(try reopened.pool.with { try $0.query("SELECT version FROM rag_schema").first?.decode(Int.self) }, 2)
        XCTAssertEqual(try location().check(), [])
        try reopened.saveUploadedFile(documentID: try XCTUnwrap(reopened.documents().first?.id), data: Data("kept".utf8))
    }

    /// An uploaded document's file goes along: from the folder beside a SQLite base into the
    /// PostgreSQL base, and back into the new SQLite base's folder.
    func testMigrateCarriesUploadedFiles() throws {
        let sqlite = StoreLocation.sqlite(dir.appendingPathComponent("origin.db"))
        let origin = try sqlite.open(embedder: identity)
        try origin.put(record("d.md", texts: ["from a folder"], axis: 1))
        let uploadID = try origin.put(record("notes.md", texts: ["uploaded words"], axis: 5, source: RAGPipeline.uploadSource))
        try FileManager.default.createDirectory(at: sqlite.uploadsFolder, withIntermediateDirectories: true)
        let file = Data("# Notes\n\nuploaded words\n".utf8)
        try file.write(to: sqlite.uploadsFolder.appendingPathComponent("notes.md"))

        XCTAssertEqual(try StoreMigration.copy(from: sqlite, to: location()).files, 1)
        XCTAssertEqual(try open().uploadedFile(documentID: uploadID), file)
        let back = StoreLocation.sqlite(dir.appendingPathComponent("back.db"))
        XCTAssertEqual(try StoreMigration.copy(from: location(), to: back).files, 1)
        XCTAssertEqual(FileManager.default.contents(atPath: back.uploadsFolder.appendingPathComponent("notes.md").path), file)
    }

    /// SQLite → PostgreSQL → SQLite keeps every id, vector, setting and the embedder, and each
    /// copy answers every search mode as the original does (the same distances for vector search:
    /// documents whose axes coincide tie, and two graphs may order a tie either way).
    func testMigrateBothWaysKeepsIDsAndAnswers() throws {
        let sqlite = StoreLocation.sqlite(dir.appendingPathComponent("origin.db"))
        let origin = try sqlite.open(embedder: identity)
        for i in 0..<20 { try origin.put(record("d\(i).md", texts: ["topic \(i) words", "more \(i)"], axis: i)) }
        try origin.removeDocument(id: try XCTUnwrap(origin.documents().first { $0.path == "d3.md" }).id)  // a gap in the ids
        try origin.setSetting("root", "/docs")

        let there = try StoreMigration.copy(from: sqlite, to: location())
        XCTAssertEqual(there.documents, 19)
        XCTAssertEqual(there.chunks, 38)
        let back = StoreLocation.sqlite(dir.appendingPathComponent("back.db"))
        _ = try StoreMigration.copy(from: location(), to: back)

        let pg = try open(), copy = try back.open(embedder: identity)
        XCTAssertEqual(try location().recordedEmbedder(), identity)
        for store in [pg, copy] {
            XCTAssertEqual(try store.documents().map(\.id), try origin.documents().map(\.id))
            XCTAssertEqual(try store.allChunks(), try origin.allChunks())
            XCTAssertEqual(try store.setting("root"), "/docs")
            for (axis, text) in [(4, "topic 4"), (11, "more 11"), (17, "words")] {
                for mode in SearchMode.allCases {
                    let want = try origin.search(mode: mode, vector: vector(axis), text: text, k: 2, allowed: nil)
                    let got = try store.search(mode: mode, vector: vector(axis), text: text, k: 2, allowed: nil)
                    switch mode {
                    case .vector:
                        XCTAssertEqual(got.count, want.count)
                        for (g, w) in zip(got, want) { XCTAssertEqual(g.score, w.score, accuracy: 1e-5, "\(mode) \(text)") }
                    case .lexical: XCTAssertEqual(Set(got.map(\.label)), Set(want.map(\.label)), "\(mode) \(text)")  // the two tokenizers order ties apart
                    case .hybrid: XCTAssertEqual(got.first?.label, want.first?.label, "\(mode) \(text)")
                    }
                }
            }
        }
        let ids = try origin.allChunks().map(\.id)
        let pgVectors = try pg.similarities(vector(4), ids: ids), sqliteVectors = try origin.similarities(vector(4), ids: ids)
        for id in ids { XCTAssertEqual(pgVectors[id] ?? -9, sqliteVectors[id] ?? 9, accuracy: 1e-5) }

        // New rows after a migration get new ids (the identity sequences moved past the copied ones).
        let newID = try pg.put(record("new.md", texts: ["fresh"], axis: 2))
        XCTAssertGreaterThan(newID, try origin.documents().map(\.id).max() ?? 0)
        // A second copy into a base that holds documents is refused, naming it.
        XCTAssertThrowsError(try StoreMigration.copy(from: sqlite, to: location())) { error in
            XCTAssertTrue("\(error)".contains("already holds documents"), "\(error)")
        }
    }

    func testReembedChangesTheDimensionInOneTransaction() throws {
        let kb = try open()
        for i in 0..<5 { try kb.put(record("d\(i).md", texts: ["text \(i)"], axis: i)) }
        let four = FixedEmbedder(identity: EmbedderIdentity(name: "four", dimension: 4))
        try location().reembed(with: four)
        XCTAssertEqual(try location().recordedEmbedder(), four.identity)
        let reopened = try open(four.identity)
        XCTAssertEqual(try reopened.search(mode: .vector, vector: [0, 0, 1, 0], text: "", k: 10, allowed: nil).count, 5)
        XCTAssertEqual(try location().check(), [])
    }

    func testClearErrors() throws {
        let port = try TestPostgres.port()
        // A database that does not exist: named, with what to do.
        XCTAssertThrowsError(try StoreLocation("postgres://rag@127.0.0.1:\(port)/no_such_db").open(embedder: identity)) { error in
            XCTAssertTrue("\(error)".contains("no_such_db") && "\(error)".contains("createdb"), "\(error)")
        }
        // Nobody listening: the host and port, and the question to ask.
        let closed = try freePort()
        XCTAssertThrowsError(try StoreLocation("postgres://rag:secret@127.0.0.1:\(closed)/rag").open(embedder: identity)) { error in
            XCTAssertTrue("\(error)".contains("cannot connect to 127.0.0.1:\(closed)"), "\(error)")
            XCTAssertFalse("\(error)".contains("secret"), "the password never appears in a message: \(error)")
        }
    }

    /// SCRAM-SHA-256 with the password from the URL or PGPASSWORD; a wrong one is named as such.
    /// (The test server's role rag_password must give its password; see postgres-test-server.sh.)
    func testPasswordAuthentication() throws {
        let port = try TestPostgres.port()
        let db = try XCTUnwrap(url.split(separator: "/").last)
        let withURL = try PostgresLocation(url: "postgres://rag_password:test-password@127.0.0.1:\(port)/\(db)", environment: [:])
        XCTAssertNoThrow(try PostgresKnowledgeBase(location: withURL, embedder: identity))
        let fromEnvironment = try PostgresLocation(url: "postgres://rag_password@127.0.0.1:\(port)/\(db)",
                                                   environment: ["PGPASSWORD": "test-password", "PGPASSFILE": "/nonexistent"])
        XCTAssertEqual(try PostgresKnowledgeBase(location: fromEnvironment, embedder: identity).stats().documents, 0)
        let wrong = try PostgresLocation(url: "postgres://rag_password:nope@127.0.0.1:\(port)/\(db)", environment: [:])
        XCTAssertThrowsError(try PostgresKnowledgeBase(location: wrong, embedder: identity)) { error in
            XCTAssertTrue("\(error)".contains("check the password"), "\(error)")
            XCTAssertFalse("\(error)".contains("nope"), "the password never appears in a message: \(error)")
        }
        let none = try PostgresLocation(url: "postgres://rag_password@127.0.0.1:\(port)/\(db)", environment: ["PGPASSFILE": "/nonexistent"])
        XCTAssertThrowsError(try PostgresKnowledgeBase(location: none, embedder: identity)) { error in
            XCTAssertTrue("\(error)".contains("asks for a password"), "\(error)")
        }
    }

    /// The test server has no TLS: sslmode=require is refused saying so, prefer goes on without it.
    func testTLSModes() throws {
        XCTAssertThrowsError(try StoreLocation(url + "?sslmode=require").open(embedder: identity)) { error in
            XCTAssertTrue("\(error)".contains("does not offer TLS"), "\(error)")
        }
        XCTAssertEqual(try StoreLocation(url + "?sslmode=prefer").open(embedder: identity).stats().documents, 0)
        XCTAssertEqual(try StoreLocation(url + "?sslmode=disable").open(embedder: identity).stats().documents, 0)
    }

    private func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// An embedder that gives every text the same unit vector (for re-embedding tests).
struct FixedEmbedder: TextEmbedder {
    let identity: EmbedderIdentity
    var maxTokens: Int { 128 }
    func countTokens(_ text: String) -> Int { text.split(separator: " ").count }
    func embed(_ texts: [String]) throws -> [[Float]] {
        texts.map { _ in (0..<identity.dimension).map { $0 == 2 ? 1 : 0 } }
    }
}

/// The URL rules, without a server.
final class PostgresLocationTests: XCTestCase {
    func testURLPartsAndDefaults() throws {
        let p = try PostgresLocation(url: "postgresql://ann:p%40ss@db.example:6543/kb?sslmode=require", environment: [:])
        XCTAssertEqual(p.user, "ann")
        XCTAssertEqual(p.password, "p@ss")
        XCTAssertEqual(p.host, "db.example")
        XCTAssertEqual(p.port, 6543)
        XCTAssertEqual(p.database, "kb")
        XCTAssertEqual(p.tls, .require)
        XCTAssertEqual(p.redacted, "postgres://ann@db.example:6543/kb")
        let d = try PostgresLocation(url: "postgres://bob@localhost/rag", environment: ["PGPASSWORD": "envpw"])
        XCTAssertEqual(d.port, 5432)
        XCTAssertEqual(d.tls, .prefer)
        XCTAssertEqual(d.password, "envpw")
        XCTAssertEqual(d.textSearch, "english")
        XCTAssertEqual(d.poolSize, 16)
    }

    func testBadURLsNameWhatIsWrong() {
        for (url, expected) in [("postgres://localhost", "no database name"), ("postgres:///kb", "no host"),
                                ("postgres://a@h/kb?sslmode=maybe", "sslmode=maybe"), ("postgres://a@h/kb?sslmod=require", "unknown parameter sslmod"),
                                ("postgres://a:secret@h/kb?text_search=x;drop", "text_search"), ("postgres://a@h/kb?pool_size=0", "pool_size=0")] {
            XCTAssertThrowsError(try PostgresLocation(url: url, environment: [:]), url) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(url): \(error)")
                XCTAssertFalse("\(error)".contains("secret"), "\(url): \(error)")
            }
        }
    }

    func testPasswordFileAsLibpqReadsIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "# comment\nother:5432:*:ann:wrong\ndb.example:*:kb:ann:pa\\:ss\n*:*:*:*:fallback\n".write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        let p = try PostgresLocation(url: "postgres://ann@db.example/kb", environment: ["PGPASSFILE": file.path])
        XCTAssertEqual(p.password, "pa:ss")
        let q = try PostgresLocation(url: "postgres://zoe@elsewhere/x", environment: ["PGPASSFILE": file.path])
        XCTAssertEqual(q.password, "fallback")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        XCTAssertNil(try PostgresLocation(url: "postgres://ann@db.example/kb", environment: ["PGPASSFILE": file.path]).password,
                     "a file others may read is ignored, as libpq ignores it")
    }
}
