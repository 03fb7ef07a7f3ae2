import Foundation
import XCTest

/// GET /v1/documents/{id} on the real pipeline: the original file, to those allowed to read.
final class DocumentFileTests: XCTestCase {
    func testServesTheOriginalFileBehindTheKey() async throws {
        let key = "file-key"
        let server = try await ServerHarness.start(configure: { $0.apiKey = key })
        let auth = ["Authorization": "Bearer \(key)"]
        let list = try await server.request("GET", "/v1/documents", headers: auth).json()
        let docs = try XCTUnwrap(list["data"] as? [[String: Any]])
        let hybrid = try XCTUnwrap(docs.first { $0["path"] as? String == "hybrid.md" })
        let id = try XCTUnwrap(hybrid["id"] as? Int)

        let file = try await server.request("GET", "/v1/documents/\(id)", headers: auth)
        XCTAssertEqual(file.status, 200)
        XCTAssertEqual(file.text, TestBase.documents["hybrid.md"])
        XCTAssertEqual(file.headers["content-type"], "text/markdown; charset=utf-8")
        XCTAssertEqual(file.headers["content-disposition"], "inline; filename=\"hybrid.md\"; filename*=UTF-8''hybrid.md")
        XCTAssertEqual(file.headers["x-content-type-options"], "nosniff")

        let unauthorized = try await server.request("GET", "/v1/documents/\(id)")
        XCTAssertEqual(unauthorized.status, 401, "the key is needed as on every /v1 route")
        let missing = try await server.request("GET", "/v1/documents/987654", headers: auth)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try missing.error().code, "document_not_found")
        let bad = try await server.request("GET", "/v1/documents/abc", headers: auth)
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try bad.error().param, "id")

        // Answers' passages name their document, which serves the passage's file.
        let answer = try await server.post("/v1/chat/completions", json: [
            "messages": [["role": "user", "content": TestBase.question]], "max_tokens": 4,
        ], headers: auth).json()
        let sources = try XCTUnwrap(answer["sources"] as? [[String: Any]])
        XCTAssertFalse(sources.isEmpty)
        for s in sources {
            let docID = try XCTUnwrap(s["document_id"] as? Int)
            let served = try await server.request("GET", "/v1/documents/\(docID)", headers: auth)
            XCTAssertEqual(served.status, 200)
            XCTAssertEqual(served.text, TestBase.documents[s["file"] as? String ?? ""])
        }
        let health = try await server.request("GET", "/health").json()
        XCTAssertEqual(health["auth_required"] as? Bool, true)
        try await server.stop()
    }
}
