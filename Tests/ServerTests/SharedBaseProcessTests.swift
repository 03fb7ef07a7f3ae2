import Foundation
import RAG
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17 with the real programs: `rag` processes and a `rag-server` process on one base. After
/// every step, every search mode must find exactly the documents that exist, the check must pass
/// and there must be one vector per chunk. The same tests run on PostgreSQL in
/// `PostgresSharedBaseProcessTests` (issue 18).
class SharedBaseProcessTests: XCTestCase {
    /// One document per topic: distinct enough that the real embedder and BM25 both rank the right
    /// document first for its question.
    static let topics: [(name: String, text: String, query: String)] = [
        ("pasta.md", "Boil the spaghetti in salted water for nine minutes, then drain the pasta and toss it with tomato sauce.",
         "how long to boil spaghetti pasta"),
        ("stars.md", "A telescope gathers starlight; astronomers measure the distance to galaxies from their redshift.",
         "telescope galaxies redshift astronomers"),
        ("roses.md", "Prune the roses in early spring and water the garden beds deeply once a week.",
         "when to prune roses in the garden"),
        ("volcano.md", "Magma rises through the crust until the volcano erupts, pouring lava and ash over its slopes.",
         "volcano erupts magma lava"),
        ("chess.md", "In chess the knight moves in an L shape, and castling tucks the king behind a wall of pawns.",
         "chess knight castling king"),
        ("bees.md", "Honey bees build wax combs inside the hive, and the beekeeper harvests the honey in late summer.",
         "beekeeper harvests honey from the hive"),
        ("knots.md", "A bowline ties a fixed loop at the end of a rope; sailors use a cleat hitch to moor the boat.",
         "bowline knot rope loop sailors"),
        ("bicycle.md", "Oil the bicycle chain, pump the tyres and check the brake pads before a long ride.",
         "bicycle chain tyres brake pads"),
        ("coffee.md", "Grind the coffee beans coarsely for a French press and steep them in hot water for four minutes.",
         "grind coffee beans for a french press"),
        ("tides.md", "The pull of the moon raises the ocean tides twice a day along the coast.",
         "moon ocean tides coast"),
        ("violin.md", "The violinist tunes the four strings and draws the bow slowly to make a warm tone.",
         "violin strings bow tone"),
        ("glacier.md", "A glacier carves a U-shaped valley as the ice slowly grinds down the mountain.",
         "glacier ice valley mountain"),
    ]

    static func topic(_ name: String) -> (name: String, text: String, query: String) {
        topics.first { $0.name == name } ?? (name, "", "")
    }

    static func text(_ name: String, revision: Int = 0) -> String {
        let t = topic(name)
        return "# \(t.name.dropLast(3))\n\n\(t.text)" + (revision == 0 ? "" : " Revision \(revision).")
    }

    var work: TempDirectory!
    var db: URL { work.url.appendingPathComponent("kb.db") }
    /// What `--db` names: the SQLite file here, a PostgreSQL URL in the subclass.
    var dbArgument: String { db.path }

    override func setUpWithError() throws {
        do { _ = try TestBase.models.get() } catch { throw XCTSkip("the default models are not installed (\(error))") }
        try RagBinaries.require()
        work = try TempDirectory()
    }

    func folder(_ name: String, _ docs: [String], revision: Int = 0) throws -> URL {
        let dir = work.url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for d in docs { try Self.text(d, revision: revision).write(to: dir.appendingPathComponent(d), atomically: true, encoding: .utf8) }
        return dir
    }

    var logCounter = 0
    func logs(_ what: String) -> URL {
        logCounter += 1
        return work.url.appendingPathComponent("log-\(logCounter)-\(what)")
    }

    func rag(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try RagBinaries.rag(arguments + ["--db", dbArgument], logs: logs(arguments.first ?? "rag"))
        XCTAssertEqual(r.status, 0, "rag \(arguments.joined(separator: " ")): \(r.err)", file: file, line: line)
        return r.out
    }

    /// The base is sound and holds one vector per chunk, by the check in this process and by `rag status --check`.
    func assertSound(_ step: String, viaCLI: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try StoreLocation(dbArgument).check(), [], step, file: file, line: line)
        if viaCLI {
            let out = try rag(["status", "--check"], file: file, line: line)
            XCTAssertTrue(out.contains("check:          ok"), "\(step): \(out)", file: file, line: line)
            let json = try rag(["status", "--json"], file: file, line: line)
            let stats = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            XCTAssertEqual(stats["vectors"] as? Int, stats["chunks"] as? Int, "\(step): \(json)", file: file, line: line)
        }
    }

    /// Every mode finds each present document first for its question and never a gone one; a
    /// vector search for everything returns every chunk, each of a present document.
    func assertServerFinds(_ server: ServerProcess, present: [String], gone: [String], _ step: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        for mode in ["vector", "lexical", "hybrid"] {
            for name in present {
                let files = try server.retrieve(Self.topic(name).query, mode: mode, k: 3)
                XCTAssertEqual(files.first, name, "\(step), \(mode) search for \(name): \(files)", file: file, line: line)
            }
            for name in gone {
                let files = try server.retrieve(Self.topic(name).query, mode: mode, k: 3)
                XCTAssertFalse(files.contains(name), "\(step), \(mode): deleted \(name) still found", file: file, line: line)
            }
        }
        let all = try server.retrieve("anything at all", mode: "vector", k: 100)
        XCTAssertEqual(all.count, present.count, "\(step): one chunk per document, each found by a vector search", file: file, line: line)
        XCTAssertEqual(Set(all), Set(present), step, file: file, line: line)
        XCTAssertEqual(try server.retrieve("anything at all", mode: "vector", k: 3).count, min(3, present.count), step, file: file, line: line)
    }

    func testCLIWritesBesideARunningServer() throws { try runCLIWritesBesideARunningServer() }
    func testConcurrentWritersAndKillNine() throws { try runConcurrentWritersAndKillNine() }

    /// The issue's sequence: ingest, serve, ingest beside the server, delete from the CLI, upload.
    func runCLIWritesBesideARunningServer() throws {
        let corpus = try folder("corpus", ["pasta.md", "stars.md", "roses.md"])
        _ = try rag(["ingest", corpus.path])
        let server = try ServerProcess(db: dbArgument, logs: logs("server"))
        defer { server.stop() }
        try assertServerFinds(server, present: ["pasta.md", "stars.md", "roses.md"], gone: [], "after the first ingest")

        let newdocs = try folder("newdocs", ["volcano.md", "chess.md", "bees.md"])
        _ = try rag(["ingest", newdocs.path])
        try assertSound("after the second ingest", viaCLI: true)
        try assertServerFinds(server, present: ["pasta.md", "stars.md", "roses.md", "volcano.md", "chess.md", "bees.md"], gone: [],
                              "after `rag ingest` beside the server")

        _ = try rag(["delete", "volcano.md"])
        try assertSound("after the delete")
        try assertServerFinds(server, present: ["pasta.md", "stars.md", "roses.md", "chess.md", "bees.md"], gone: ["volcano.md"],
                              "after `rag delete` beside the server")

        XCTAssertEqual(try server.upload("knots.md", Self.text("knots.md")).status, 201)
        try assertSound("after the upload", viaCLI: true)
        let expected = ["pasta.md", "stars.md", "roses.md", "chess.md", "bees.md", "knots.md"]
        try assertServerFinds(server, present: expected, gone: ["volcano.md"], "after the upload")

        // The CLI sees the server's write, re-ingesting changes nothing, and a new server opens the base.
        let search = try rag(["search", Self.topic("knots.md").query, "--mode", "vector", "--k", "1", "--json"])
        XCTAssertTrue(search.contains("knots.md"), search)
        let again = try rag(["ingest", newdocs.path])
        XCTAssertTrue(again.contains("added 1,") && again.contains("unchanged 2"), again)  // volcano.md comes back
        try assertSound("after re-ingesting", viaCLI: true)
        server.stop()
        let second = try ServerProcess(db: dbArgument, logs: logs("server2"))
        defer { second.stop() }
        try assertServerFinds(second, present: expected + ["volcano.md"], gone: [], "a new server")
    }

    /// Two `rag ingest` processes on different folders and the server uploading, all at once with
    /// random timing; in later rounds one of the three is killed with SIGKILL at a random moment,
    /// then rerun. Nothing committed is lost and the check passes after every round.
    func runConcurrentWritersAndKillNine() throws {
        let groupA = ["pasta.md", "stars.md", "roses.md", "volcano.md"]
        let groupB = ["chess.md", "bees.md", "knots.md", "bicycle.md"]
        let uploads = ["coffee.md", "tides.md", "violin.md", "glacier.md"]
        var rng = SystemRandomNumberGenerator()
        var server = try ServerProcess(db: dbArgument, logs: logs("server"))
        defer { server.stop() }
        var killed: [String] = []

        for round in 0..<4 {
            let a = try folder("a", groupA, revision: round), b = try folder("b", groupB, revision: round)
            let victim = round == 0 ? nil : ["ingest a", "ingest b", "server"].randomElement(using: &rng)
            let killAfter = Double.random(in: 0.1..<2.5, using: &rng)
            let context = "round \(round), victim \(victim ?? "none") after \(String(format: "%.2f", killAfter)) s"

            let ingestA = try RagBinaries.start(RagBinaries.rag, ["ingest", a.path, "--db", dbArgument], logs: logs("ingest-a"))
            Thread.sleep(forTimeInterval: Double.random(in: 0..<0.3, using: &rng))
            let ingestB = try RagBinaries.start(RagBinaries.rag, ["ingest", b.path, "--db", dbArgument], logs: logs("ingest-b"))
            let started = Date()
            let uploader = server
            let uploadsDone = DispatchSemaphore(value: 0)
            let uploadDelays = uploads.map { _ in Double.random(in: 0..<0.4, using: &rng) }
            DispatchQueue.global().async {
                for (name, delay) in zip(uploads, uploadDelays) {
                    Thread.sleep(forTimeInterval: delay)
                    _ = try? uploader.upload(name, Self.text(name, revision: round))  // may fail when the server is the victim
                }
                uploadsDone.signal()
            }
            if let victim {
                Thread.sleep(forTimeInterval: max(0, killAfter - Date().timeIntervalSince(started)))
                switch victim {
                case "ingest a": if ingestA.isRunning { kill(ingestA.processIdentifier, SIGKILL); killed.append(context) }
                case "ingest b": if ingestB.isRunning { kill(ingestB.processIdentifier, SIGKILL); killed.append(context) }
                default: server.kill9(); killed.append(context)
                }
            }
            ingestA.waitUntilExit()
            ingestB.waitUntilExit()
            uploadsDone.wait()
            XCTAssertEqual(try StoreLocation(dbArgument).check(), [], "\(context): right after the writers")

            // Rerun whatever was killed; the ones that finished must have succeeded.
            for (p, folder, name) in [(ingestA, a, "ingest a"), (ingestB, b, "ingest b")] {
                if p.terminationReason == .uncaughtSignal { _ = try rag(["ingest", folder.path]) } else {
                    XCTAssertEqual(p.terminationStatus, 0, "\(context): \(name) failed")
                }
            }
            if !server.process.isRunning { server = try ServerProcess(db: dbArgument, logs: logs("server")) }
            for name in uploads { XCTAssertEqual(try server.upload(name, Self.text(name, revision: round)).status, 201, context) }

            try assertSound(context, viaCLI: round == 3)
            try assertServerFinds(server, present: groupA + groupB + uploads, gone: [], context)
            // Every document is in this round's revision.
            for name in groupA + groupB + uploads where round > 0 {
                let top = try server.retrieveHits(Self.topic(name).query, mode: "vector", k: 1).first
                XCTAssertEqual(top?.file, name, context)
                XCTAssertTrue(top?.text.contains("Revision \(round).") ?? false, "\(context): \(name) is \(top?.text ?? "missing")")
            }
        }
        print("killed: \(killed)")
    }
}

/// A temporary folder removed at the end of the test.
final class TempDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rag-shared-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}
