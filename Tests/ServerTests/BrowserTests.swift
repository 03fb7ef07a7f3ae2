import Foundation
import RAG
import Tokenizers
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The web page in a real browser: builds a base from the sample corpus with the real `rag`,
/// starts the real `rag-server` on it (both built beside this test bundle), and runs
/// scripts/browser_check.py — Selenium driving Debian's headless Chromium — against it: once as
/// is, once with `--api-key`. Screenshots of every step go to `.build/test-output/browser/`
/// (or $RAG_TEST_OUTPUT/browser). Skipped, saying why, only where Chromium cannot run
/// (scripts/install-deps.sh installs chromium and chromium-driver, test.sh installs selenium).
final class BrowserTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var binaries: URL { URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent() }

    func testThePageInChromium() async throws {
        try requireBrowser()
        guard (try? TestBase.models.get()) != nil else {
            throw XCTSkip("the default models are not installed; run scripts/fetch-models.sh")
        }
        for tool in ["rag", "rag-server"] where !FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent(tool).path) {
            return XCTFail("\(binaries.appendingPathComponent(tool).path) is missing: build the package before testing")
        }
        let out = Self.outputFolder()
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // The base: the sample corpus as `rag ingest` reads it.
        let db = work.appendingPathComponent("corpus.db").path
        let ingest = try await runCommand([binaries.appendingPathComponent("rag").path, "ingest", Self.root.appendingPathComponent("corpus").path, "--db", db])
        XCTAssertEqual(ingest.status, 0, ingest.output)
        guard ingest.status == 0 else { return }

        let server = try await BrowserTestServer.start(binaries.appendingPathComponent("rag-server"), arguments: ["--db", db])
        let page = try await runCommand(["python3", Self.root.appendingPathComponent("scripts/browser_check.py").path,
                                  "--url", "http://127.0.0.1:\(server.port)/", "--out", out.path])
        server.stop()
        if page.status == 77 { throw XCTSkip("Chromium cannot run here: \(page.output)") }
        XCTAssertEqual(page.status, 0, page.output + "\nserver log:\n" + server.log)
        XCTAssertTrue(page.output.contains("all browser checks passed"), page.output)

        let key = "browser-test-key"
        let guarded = try await BrowserTestServer.start(binaries.appendingPathComponent("rag-server"), arguments: ["--db", db, "--api-key", key])
        let keyed = try await runCommand(["python3", Self.root.appendingPathComponent("scripts/browser_check.py").path,
                                   "--url", "http://127.0.0.1:\(guarded.port)/", "--out", out.appendingPathComponent("api-key").path,
                                   "--api-key", key])
        guarded.stop()
        XCTAssertEqual(keyed.status, 0, keyed.output + "\nserver log:\n" + guarded.log)
        XCTAssertTrue(keyed.output.contains("all browser checks passed"), keyed.output)

        // The ranking page (rag-server --prefs FILE): two questions ranked by clicks, stored in FILE.
        let prefs = work.appendingPathComponent("prefs.jsonl")
        func candidates(_ question: String, _ responses: [String]) -> CandidateSet {
            CandidateSet(question: question, prompt: [ChatMessage(role: "user", content: question)],
                         passages: [Passage(n: 1, file: "animals.md", page: nil, section: "Beavers", score: 0.9,
                                            text: "Beavers build dams across rivers with branches and mud.", chunkID: 1)],
                         responses: responses)
        }
        try PreferenceFile.write([candidates("What do beavers build?", ["Nests of reeds.", "Trains [1].", "Dams across rivers [1]."]),
                                  candidates("Where do cormorants dive?", ["In the desert.", "Along the coast."])], to: prefs)
        let ranking = try await BrowserTestServer.start(binaries.appendingPathComponent("rag-server"), arguments: ["--db", db, "--prefs", prefs.path])
        let ranked = try await runCommand(["python3", Self.root.appendingPathComponent("scripts/browser_check.py").path,
                                    "--url", "http://127.0.0.1:\(ranking.port)/", "--out", out.appendingPathComponent("rank").path,
                                    "--rank", prefs.path])
        ranking.stop()
        XCTAssertEqual(ranked.status, 0, ranked.output + "\nserver log:\n" + ranking.log)
        XCTAssertTrue(ranked.output.contains("all browser checks passed"), ranked.output)
        print("browser screenshots: \(out.path)")
    }

    static func outputFolder() -> URL {
        if let base = ProcessInfo.processInfo.environment["RAG_TEST_OUTPUT"], !base.isEmpty {
            return URL(fileURLWithPath: base, isDirectory: true).appendingPathComponent("browser", isDirectory: true)
        }
        return root.appendingPathComponent(".build/test-output/browser", isDirectory: true)
    }

    /// Skips, saying what is missing, where the browser or its driver cannot be had.
    func requireBrowser() throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/lib/chromium"]
        func find(_ names: [String]) -> String? {
            for dir in path { for n in names where FileManager.default.isExecutableFile(atPath: dir + "/" + n) { return dir + "/" + n } }
            return nil
        }
        guard find(["chromium", "chromium-browser", "google-chrome"]) != nil, find(["chromedriver"]) != nil else {
            throw XCTSkip("Chromium or its driver is not installed (apt-get install chromium chromium-driver; scripts/install-deps.sh does)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import selenium"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { throw XCTSkip("python3 is not available to drive Chromium") }
        p.waitUntilExit()
        if p.terminationStatus != 0 { throw XCTSkip("the selenium package is not installed (pip install selenium; test.sh does)") }
    }
}

/// A `rag-server` process on a port the kernel picks (`--port 0`), read back from its log line
/// "listening on http://HOST:PORT"; ready once /health answers 200.
final class BrowserTestServer: @unchecked Sendable {
    let process: Process
    let port: Int
    private let logFile: URL

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private init(process: Process, port: Int, logFile: URL) { self.process = process; self.port = port; self.logFile = logFile }

    static func start(_ binary: URL, arguments: [String]) async throws -> BrowserTestServer {
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("rag-server-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments + ["--host", "127.0.0.1", "--port", "0", "--log-level", "notice"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: logFile)
        try p.run()
        let deadline = Date().addingTimeInterval(120)
        var port: Int?
        while Date() < deadline, p.isRunning {
            let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            if port == nil, let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            if let port, try await ServerHarnessProbe.health(port: port) == 200 {
                return BrowserTestServer(process: p, port: port, logFile: logFile)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        throw RawHTTPConnection.ClientError.io("rag-server did not become ready:\n\(log)")
    }

    func stop() {
        if process.isRunning {
            process.interrupt()  // SIGINT: the graceful shutdown
            process.waitUntilExit()
        }
    }
}

enum ServerHarnessProbe {
    static func health(port: Int) async throws -> Int {
        try await blocking {
            guard let c = try? RawHTTPConnection(port: port) else { return 0 }
            try c.sendRequest(method: "GET", path: "/health", headers: [:], body: [])
            let head = try c.readHead()
            _ = try? c.readBody()
            return head.status
        }
    }
}
