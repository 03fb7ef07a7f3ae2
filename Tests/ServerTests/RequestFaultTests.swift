import Foundation
import RAG
import ServerTestSupport
import XCTest

/// The request faults of issue 17: bodies over the limit without a Content-Length, integers too
/// large for the server, files left behind by uploads, and a header of megabytes.
final class RequestFaultTests: XCTestCase {
    static func scripted() -> ScriptedService { ScriptedService(script: ScriptedService.Script()) }

    func testChunkedBodyOverTheLimitIs413() async throws {
        let server = try await ServerHarness.start(configure: { $0.maxBodyBytes = 2000 }, load: { Self.scripted() })
        let port = server.port
        let result = try await blocking { () -> HTTPResult in
            let c = try RawHTTPConnection(port: port)
            var raw = Array("POST /v1/retrieve HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            let json = Array(#"{"query":""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 3000) + Array(#""}"#.utf8)
            for start in stride(from: 0, to: json.count, by: 700) {
                let piece = json[start..<min(start + 700, json.count)]
                raw += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
            }
            raw += Array("0\r\n\r\n".utf8)
            try c.send(raw)
            let head = try c.readHead()
            return HTTPResult(status: head.status, headers: head.headers, body: try c.readBody())
        }
        XCTAssertEqual(result.status, 413, result.text)
        XCTAssertEqual(try result.error().code, "request_too_large")
        XCTAssertFalse(result.text.contains("NIOTooManyBytesError"))
        try await server.stop()
    }

    func testMaxTokensBeyondSixtyFourBitsIsA400NamingTheField() async throws {
        let server = try await ServerHarness.start(load: { Self.scripted() })
        for (route, field, value) in [("/v1/chat/completions", "max_tokens", "1e30"), ("/v1/chat/completions", "max_tokens", "9223372036854775808"),
                                      ("/v1/completions", "max_tokens", "1e30"), ("/v1/chat/completions", "max_completion_tokens", "2.5")] {
            let prompt = route == "/v1/completions" ? #""prompt":"hi""# : #""messages":[{"role":"user","content":"hi"}],"rag":false"#
            let body = Array("{\(prompt),\"\(field)\":\(value)}".utf8)
            let r = try await server.request("POST", route, headers: ["Content-Type": "application/json"], body: body)
            XCTAssertEqual(r.status, 400, "\(route) \(field)=\(value): \(r.text)")
            let e = try r.error()
            XCTAssertEqual(e.param, field, "\(field)=\(value): \(e.message)")
            XCTAssertTrue(e.message.contains(field), e.message)
            XCTAssertFalse(e.message.contains("not valid JSON"), e.message)
        }
        try await server.stop()
    }

    func testRefusedAndDeletedUploadsLeaveNoFile() async throws {
        let service = try await TestBase.makeService()
        guard let pipeline = service as? RAGPipeline else { return XCTFail("TestBase.makeService is not the real pipeline") }
        let server = try await ServerHarness.start(load: { service })
        let folder = pipeline.uploadsFolder
        func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() }

        // Refused for its type, and refused for its content (a .pdf that is not one).
        for (name, content) in [("picture.png", [UInt8]([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a])), ("broken.pdf", Array("not a pdf at all".utf8))] {
            let part = multipartBody(fileName: name, content: content)
            let r = try await server.request("POST", "/v1/documents", headers: ["Content-Type": part.contentType], body: part.body)
            XCTAssertEqual(r.status, 400, "\(name): \(r.text)")
            XCTAssertEqual(files(), [], "\(name) left a file behind")
        }
        let part = multipartBody(fileName: "kettle.md", content: Array("# Kettle\n\nThe kettle whistles when the water boils.".utf8))
        let added = try await server.request("POST", "/v1/documents", headers: ["Content-Type": part.contentType], body: part.body)
        XCTAssertEqual(added.status, 201, added.text)
        XCTAssertEqual(files(), ["kettle.md"])
        let id = try XCTUnwrap(try added.json()["id"] as? Int)
        let deleted = try await server.request("DELETE", "/v1/documents/\(id)")
        XCTAssertEqual(deleted.status, 200, deleted.text)
        XCTAssertEqual(files(), [], "the deleted upload's file is still there")
        try await server.stop()
    }

    /// A 1 MiB header: the server must answer 431 or close the connection, not leave both sides
    /// waiting. The socket's send and receive timeouts (2 s) turn a hang into a failure.
    func testMegabyteHeaderGets431OrAClosedConnection() async throws {
        let server = try await ServerHarness.start(load: { Self.scripted() })
        let port = server.port
        let outcome = try await blocking { () -> String in
            let c = try RawHTTPConnection(port: port, timeoutSeconds: 2)
            let request = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
                + Array("\r\n\r\n".utf8)
            do {
                try c.send(request)
                let head = try c.readHead()
                return head.status == 431 ? "431" : "answered \(head.status)"
            } catch RawHTTPConnection.ClientError.timedOut {
                return "hung"
            } catch {
                return "closed"  // reset, broken pipe or end of stream
            }
        }
        XCTAssertTrue(outcome == "closed" || outcome == "431", outcome)
        // The server still serves others.
        let health = try await server.request("GET", "/health")
        XCTAssertEqual(health.status, 200)
        try await server.stop()
    }
}
