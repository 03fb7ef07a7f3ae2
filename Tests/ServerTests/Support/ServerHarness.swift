import Foundation
import Logging
import RAG
import RAGServer
import ServiceLifecycle
import XCTest

/// Starts the real server in-process on port 0 (the kernel picks a free port; `onRunning` hands
/// it back) and talks HTTP to it over real sockets.
final class ServerHarness: @unchecked Sendable {
    let port: Int
    let server: RAGHTTPServer
    let group: ServiceGroup
    let run: Task<Void, any Error>

    static func start(configure: (inout ServerConfig) -> Void = { _ in },
                      load: @escaping RAGHTTPServer.ServiceLoader = { try await TestBase.makeService() },
                      waitUntilReady: Bool = true) async throws -> ServerHarness {
        var config = ServerConfig()
        config.port = 0
        config.logLevel = "error"
        configure(&config)
        var logger = Logger(label: "server-tests")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .warning
        let server = RAGHTTPServer(config: config, logger: logger, loadService: load)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = server.makeServiceGroup { port in continuation.yield(port) }
        let run = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw RawHTTPConnection.ClientError.io("server did not start") }
        let harness = ServerHarness(port: port, server: server, group: group, run: run)
        if waitUntilReady { try await harness.waitForHealth() }
        return harness
    }

    private init(port: Int, server: RAGHTTPServer, group: ServiceGroup, run: Task<Void, any Error>) {
        self.port = port; self.server = server; self.group = group; self.run = run
    }

    func waitForHealth(timeout: Double = 10) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await request("GET", "/health").status == 200 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw RawHTTPConnection.ClientError.io("service did not become ready")
    }

    /// Graceful shutdown, then waits for the group to end.
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await run.value
    }

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) async throws -> HTTPResult {
        let port = self.port
        return try await blocking {
            let c = try RawHTTPConnection(port: port)
            try c.sendRequest(method: method, path: path, headers: headers, body: body)
            let head = try c.readHead()
            return HTTPResult(status: head.status, headers: head.headers, body: try c.readBody())
        }
    }

    func post(_ path: String, json: Any, headers: [String: String] = [:]) async throws -> HTTPResult {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try await request("POST", path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: Array(body))
    }

    /// Sends a request and returns after the response head, to read the body as events.
    func openStream(_ path: String, json: Any, headers: [String: String] = [:]) async throws -> EventReader {
        let body = Array(try JSONSerialization.data(withJSONObject: json))
        let port = self.port
        return try await blocking {
            let c = try RawHTTPConnection(port: port)
            try c.sendRequest(method: "POST", path: path, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a }, body: body)
            return EventReader(connection: c, head: try c.readHead())
        }
    }
}

func parseJSON(_ text: String) throws -> [String: Any] {
    guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw RawHTTPConnection.ClientError.malformed("not a JSON object: \(text)")
    }
    return o
}

/// Builds a multipart/form-data body with one file part.
func multipartBody(field: String = "file", fileName: String, content: [UInt8], boundary: String = "XyZzY-boundary-42") -> (contentType: String, body: [UInt8]) {
    var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(fileName)\"\r\nContent-Type: text/plain\r\n\r\n".utf8)
    body += content
    body += Array("\r\n--\(boundary)--\r\n".utf8)
    return ("multipart/form-data; boundary=\(boundary)", body)
}
