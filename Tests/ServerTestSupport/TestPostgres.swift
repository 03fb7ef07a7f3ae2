import Foundation

/// The PostgreSQL server of the storage tests: `test.sh` starts one with
/// `scripts/postgres-test-server.sh start DIR` and exports RAG_TEST_POSTGRES_DIR=DIR. Each test
/// gets a new empty database on it (and drops it afterwards), so tests never see each other's rows.
/// Without the variable the PostgreSQL tests are skipped, except in CI (`CI` set), where a missing
/// server is a failure: there the tests must run.
public enum TestPostgres {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../scripts/postgres-test-server.sh").standardizedFileURL

    public static let missing = "no PostgreSQL test server: start one with `scripts/postgres-test-server.sh start DIR` "
        + "and set RAG_TEST_POSTGRES_DIR=DIR (test.sh does)"

    /// The server's folder; nil when no server was started (the caller skips), an error in CI.
    public static func available() throws -> String? {
        let env = ProcessInfo.processInfo.environment
        if let dir = env["RAG_TEST_POSTGRES_DIR"], FileManager.default.fileExists(atPath: dir + "/port") { return dir }
        if env["CI"] != nil { throw TestPostgresError("in CI: " + missing) }
        return nil
    }

    static func serverDirectory() throws -> String {
        guard let dir = try available() else { throw TestPostgresError(missing) }
        return dir
    }

    /// A new empty database; returns its URL.
    public static func createDatabase() throws -> String {
        let name = "rag_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let out = try run(["createdb", try serverDirectory(), name])
        guard let url = out.split(separator: "\n").last.map(String.init), url.hasPrefix("postgres://") else {
            throw TestPostgresError("createdb printed no URL: \(out)")
        }
        return url
    }

    public static func dropDatabase(_ url: String) {
        guard let dir = try? serverDirectory(), let name = url.split(separator: "/").last else { return }
        _ = try? run(["dropdb", dir, String(name)])
    }

    /// The server's port (for tests that name a database or a port that does not exist).
    public static func port() throws -> Int {
        let text = try String(contentsOfFile: try serverDirectory() + "/port", encoding: .utf8)
        guard let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw TestPostgresError("bad port file: \(text)") }
        return port
    }

    private static func run(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script.path] + arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw TestPostgresError("\(script.lastPathComponent) \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
