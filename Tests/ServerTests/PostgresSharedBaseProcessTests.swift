import Foundation
import RAG
import ServerTestSupport
import XCTest

/// Issue 18 with the real programs on a real PostgreSQL (the server test.sh starts, a new database
/// per test): the shared-base sequences of issue 17 (CLI beside a server; two ingests and uploads
/// at once with SIGKILLs), and two `rag-server` processes behind one database.
final class PostgresSharedBaseProcessTests: SharedBaseProcessTests {
    var url: String!
    override var dbArgument: String { url }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard try TestPostgres.available() != nil else { throw XCTSkip(TestPostgres.missing) }
        url = try TestPostgres.createDatabase()
        // A PostgreSQL base keeps uploaded files itself; each machine caches them under ~/.cache/rag/uploads.
        uploads = try StoreLocation(url).uploadsFolder
    }

    var uploads: URL?

    override func tearDownWithError() throws {
        if let url { TestPostgres.dropDatabase(url) }
        if let uploads { try? FileManager.default.removeItem(at: uploads) }
        try super.tearDownWithError()
    }

    override func testCLIWritesBesideARunningServer() throws { try runCLIWritesBesideARunningServer() }
    override func testConcurrentWritersAndKillNine() throws { try runConcurrentWritersAndKillNine() }

    /// Two servers on one database give the same answers, and what is uploaded through one is
    /// found through the other at once (no reload, no restart), its file included (the second
    /// server has a home of its own, as on another machine); a delete through the second is gone
    /// from the first.
    func testTwoServersServeTheSameBase() throws {
        let corpus = try folder("corpus", ["pasta.md", "stars.md", "roses.md", "volcano.md"])
        _ = try rag(["ingest", corpus.path])
        let first = try ServerProcess(db: dbArgument, logs: logs("server1"))
        defer { first.stop() }
        let otherHome = work.url.appendingPathComponent("other-machine-home")
        let models = ProcessInfo.processInfo.environment["RAG_MODELS"]
            ?? URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".cache/rag/models").path
        let second = try ServerProcess(db: dbArgument, logs: logs("server2"), environment: ["HOME": otherHome.path, "RAG_MODELS": models])
        defer { second.stop() }
        for name in ["pasta.md", "stars.md", "roses.md", "volcano.md"] {
            for mode in ["vector", "lexical", "hybrid"] {
                let query = Self.topic(name).query
                XCTAssertEqual(try first.retrieve(query, mode: mode, k: 4), try second.retrieve(query, mode: mode, k: 4), "\(mode): \(query)")
            }
        }
        let uploaded = try first.upload("bees.md", Self.text("bees.md"))
        XCTAssertEqual(uploaded.status, 201)
        try assertServerFinds(second, present: ["pasta.md", "stars.md", "roses.md", "volcano.md", "bees.md"], gone: [],
                              "the second server after an upload through the first")
        let id = try XCTUnwrap(uploaded.id)
        let file = try second.request("GET", "/v1/documents/\(id)")
        XCTAssertEqual(file.status, 200, file.text)
        XCTAssertEqual(file.text, Self.text("bees.md"), "the uploaded file, served by the other server")
        XCTAssertEqual(try second.request("DELETE", "/v1/documents/\(id)").status, 200)
        XCTAssertEqual(try first.request("GET", "/v1/documents/\(id)").status, 404)
        try assertServerFinds(first, present: ["pasta.md", "stars.md", "roses.md", "volcano.md"], gone: ["bees.md"],
                              "the first server after a delete through the second")
        try assertSound("two servers", viaCLI: true)

        // A re-sync started through the first server is followed to its end through the second.
        try Self.text("pasta.md", revision: 1).write(to: corpus.appendingPathComponent("pasta.md"), atomically: true, encoding: .utf8)
        let started = try first.request("POST", "/v1/ingest")
        XCTAssertEqual(started.status, 202, started.text)
        let jobID = try XCTUnwrap(try started.json()["id"] as? String)
        let deadline = Date().addingTimeInterval(60)
        var status = ""
        while status != "succeeded" && Date() < deadline {
            let r = try second.request("GET", "/v1/jobs/\(jobID)")
            XCTAssertEqual(r.status, 200, "the second server knows the first one's job: \(r.text)")
            status = try r.json()["status"] as? String ?? "?"
            XCTAssertTrue(["running", "succeeded"].contains(status), r.text)
            if status != "succeeded" { Thread.sleep(forTimeInterval: 0.1) }
        }
        XCTAssertEqual(status, "succeeded")
        let finished = try second.request("GET", "/v1/jobs/\(jobID)").json()
        XCTAssertEqual((finished["report"] as? [String: Any])?["changed"] as? Int, 1, "\(finished)")
        XCTAssertEqual(try second.request("GET", "/v1/jobs/job-unknown").status, 404)
    }
}
