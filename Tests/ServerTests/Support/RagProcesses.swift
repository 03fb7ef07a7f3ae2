import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The built `rag` and `rag-server` executables (beside the test bundle), run as separate
/// processes on one knowledge base, as a user runs them.
enum RagBinaries {
    static let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let rag = folder.appendingPathComponent("rag")
    static let server = folder.appendingPathComponent("rag-server")

    static func require() throws {
        for binary in [rag, server] where !FileManager.default.isExecutableFile(atPath: binary.path) {
            throw RawHTTPConnection.ClientError.io("\(binary.path) is missing: build the package (swift build) before testing")
        }
    }

    /// A process whose output goes to files (no pipe to fill up), started at once.
    static func start(_ executable: URL, _ arguments: [String], logs: URL, environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        FileManager.default.createFile(atPath: logs.path + ".out", contents: nil)
        FileManager.default.createFile(atPath: logs.path + ".err", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logs.path + ".out"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logs.path + ".err"))
        var env = ProcessInfo.processInfo.environment
        for key in env.keys where key.hasPrefix("RAG_") && key != "RAG_MODELS" { env[key] = nil }
        env.merge(environment) { _, new in new }
        p.environment = env
        try p.run()
        return p
    }

    /// Runs `rag ARGS` to the end: exit status, stdout, stderr.
    static func rag(_ arguments: [String], logs: URL) throws -> (status: Int32, out: String, err: String) {
        let p = try start(rag, arguments, logs: logs)
        p.waitUntilExit()
        let out = (try? String(contentsOfFile: logs.path + ".out", encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: logs.path + ".err", encoding: .utf8)) ?? ""
        return (p.terminationStatus, out, err)
    }
}

/// A `rag-server` process on a free port.
final class ServerProcess: @unchecked Sendable {
    let process: Process
    let port: Int
    let logs: URL

    /// Starts `rag-server --db DB --port 0` (DB: a SQLite file or a PostgreSQL URL) and waits until it listens and its models are loaded.
    init(db: String, logs: URL, environment: [String: String] = [:], timeout: Double = 120) throws {
        self.logs = logs
        process = try RagBinaries.start(RagBinaries.server, ["--db", db, "--port", "0", "--log-level", "notice"], logs: logs,
                                        environment: environment)
        let deadline = Date().addingTimeInterval(timeout)
        var found: Int?
        while found == nil {
            let text = (try? String(contentsOfFile: logs.path + ".err", encoding: .utf8)) ?? ""
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            guard process.isRunning else { throw RawHTTPConnection.ClientError.io("rag-server exited at start: \(text.suffix(500))") }
            guard Date() < deadline else { process.terminate(); throw RawHTTPConnection.ClientError.io("rag-server did not listen: \(text.suffix(500))") }
            if found == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        port = found ?? 0
        while (try? request("GET", "/health").status) != 200 {
            guard process.isRunning else { throw RawHTTPConnection.ClientError.io("rag-server died while loading: \(log.suffix(800))") }
            guard Date() < deadline else { throw RawHTTPConnection.ClientError.io("rag-server never became ready: \(log.suffix(800))") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    var log: String { (try? String(contentsOfFile: logs.path + ".err", encoding: .utf8)) ?? "" }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> HTTPResult {
        let c = try RawHTTPConnection(port: port, timeoutSeconds: 60)
        try c.sendRequest(method: method, path: path, headers: headers, body: body)
        let head = try c.readHead()
        return HTTPResult(status: head.status, headers: head.headers, body: try c.readBody())
    }

    func post(_ path: String, json: Any) throws -> HTTPResult {
        try request("POST", path, headers: ["Content-Type": "application/json"], body: Array(try JSONSerialization.data(withJSONObject: json)))
    }

    /// The files of the hits of POST /v1/retrieve, best first.
    func retrieve(_ query: String, mode: String, k: Int) throws -> [String] {
        try retrieveHits(query, mode: mode, k: k).map(\.file)
    }

    func retrieveHits(_ query: String, mode: String, k: Int) throws -> [(file: String, text: String)] {
        let r = try post("/v1/retrieve", json: ["query": query, "mode": mode, "k": k])
        guard r.status == 200, let hits = try r.json()["hits"] as? [[String: Any]] else {
            throw RawHTTPConnection.ClientError.malformed("retrieve \(mode): \(r.status) \(r.text.prefix(300))")
        }
        return hits.map { ($0["file"] as? String ?? "?", $0["text"] as? String ?? "") }
    }

    /// Uploads a file; returns the status and the document id.
    @discardableResult
    func upload(_ name: String, _ text: String) throws -> (status: Int, id: Int?) {
        let part = multipartBody(fileName: name, content: Array(text.utf8))
        let r = try request("POST", "/v1/documents", headers: ["Content-Type": part.contentType], body: part.body)
        return (r.status, (try? r.json())?["id"] as? Int)
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}
