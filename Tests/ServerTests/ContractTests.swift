import Foundation
import XCTest
@testable import RAGServer

/// Every route's success and error shapes, over real HTTP, against `TestBase.makeService()`.
final class ContractTests: XCTestCase {
    var server: ServerHarness!

    override func setUp() async throws {
        server = try await ServerHarness.start()
    }

    override func tearDown() async throws {
        try await server?.stop()
        server = nil
    }

    func models() async throws -> (generator: String, embedder: String, ids: [String]) {
        let r = try await server.request("GET", "/v1/models")
        XCTAssertEqual(r.status, 200)
        let json = try r.json()
        XCTAssertEqual(json["object"] as? String, "list")
        let data = try XCTUnwrap(json["data"] as? [[String: Any]])
        for m in data {
            XCTAssertEqual(m["object"] as? String, "model")
            XCTAssertNotNil(m["created"] as? Int)
            XCTAssertNotNil(m["owned_by"] as? String)
        }
        let generator = try XCTUnwrap(data.first { $0["kind"] as? String == "generator" }?["id"] as? String)
        let embedder = try XCTUnwrap(data.first { $0["kind"] as? String == "embedder" }?["id"] as? String)
        return (generator, embedder, data.compactMap { $0["id"] as? String })
    }

    // MARK: models

    func testModelsListsGeneratorAdaptersAndEmbedder() async throws {
        let m = try await models()
        XCTAssertTrue(m.ids.contains(m.generator))
        XCTAssertTrue(m.ids.contains(m.embedder))
        let one = try await server.request("GET", "/v1/models/\(m.embedder)")
        XCTAssertEqual(one.status, 200)
        XCTAssertEqual(try one.json()["id"] as? String, m.embedder)
        // Every generation model the list names is accepted by chat.
        let adapters = m.ids.filter { $0 != m.generator && $0 != m.embedder }
        for id in [m.generator] + adapters {
            let r = try await server.post("/v1/chat/completions", json: ["model": id, "messages": [["role": "user", "content": "hi"]], "rag": false, "max_tokens": 2])
            XCTAssertEqual(r.status, 200, id)
            XCTAssertEqual(try r.json()["model"] as? String, id)
        }
        let missing = try await server.request("GET", "/v1/models/no-such-model")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try missing.error().code, "model_not_found")
    }

    // MARK: chat

    func testChatCompletionShapeWithSources() async throws {
        let m = try await models()
        let r = try await server.post("/v1/chat/completions", json: [
            "model": m.generator, "messages": [["role": "user", "content": TestBase.question]],
            "temperature": 0, "max_tokens": 64, "seed": 7,
        ])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual(r.headers["content-type"], "application/json")
        let json = try r.json()
        XCTAssertEqual(json["object"] as? String, "chat.completion")
        XCTAssertTrue((json["id"] as? String)?.hasPrefix("chatcmpl-") ?? false)
        XCTAssertEqual(json["model"] as? String, m.generator)
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual(choice["index"] as? Int, 0)
        let message = try XCTUnwrap(choice["message"] as? [String: Any])
        XCTAssertEqual(message["role"] as? String, "assistant")
        XCTAssertFalse((message["content"] as? String ?? "").isEmpty)
        XCTAssertTrue(["stop", "length"].contains(choice["finish_reason"] as? String ?? ""))
        let usage = try XCTUnwrap(json["usage"] as? [String: Int])
        XCTAssertEqual(usage["total_tokens"], (usage["prompt_tokens"] ?? -1) + (usage["completion_tokens"] ?? -1))
        XCTAssertGreaterThan(usage["completion_tokens"] ?? 0, 0)
        let sources = try XCTUnwrap(json["sources"] as? [[String: Any]])
        XCTAssertFalse(sources.isEmpty, "retrieval is on by default")
        for s in sources {
            XCTAssertNotNil(s["n"] as? Int); XCTAssertNotNil(s["file"] as? String)
            XCTAssertNotNil(s["text"] as? String); XCTAssertNotNil(s["chunk_id"] as? Int)
        }
    }

    func testChatWithoutRetrievalHasNoSources() async throws {
        let r = try await server.post("/v1/chat/completions", json: [
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": [["type": "text", "text": "Hello there"]]]],
            "rag": false,
        ])
        XCTAssertEqual(r.status, 200, r.text)
        XCTAssertEqual((try r.json()["sources"] as? [Any])?.count, 0)
    }

    func testMaxTokensEndsWithLength() async throws {
        let r = try await server.post("/v1/chat/completions", json: [
            "messages": [["role": "user", "content": TestBase.question]], "max_completion_tokens": 2,
        ])
        XCTAssertEqual(r.status, 200, r.text)
        let json = try r.json()
        XCTAssertEqual((json["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "length")
        XCTAssertEqual((json["usage"] as? [String: Int])?["completion_tokens"], 2)
    }

    func testChatStreamOrderAndDone() async throws {
        let m = try await models()
        let stream = try await server.openStream("/v1/chat/completions", json: [
            "model": m.generator, "messages": [["role": "user", "content": TestBase.question]],
            "stream": true, "stream_options": ["include_usage": true], "max_tokens": 64,
        ])
        XCTAssertEqual(stream.head.status, 200)
        XCTAssertEqual(stream.head.headers["content-type"], "text/event-stream; charset=utf-8")
        let events = try await stream.all()
        XCTAssertEqual(events.last, "[DONE]")
        let chunks = try events.dropLast().map(parseJSON)
        XCTAssertGreaterThanOrEqual(chunks.count, 4)
        for c in chunks {
            XCTAssertEqual(c["object"] as? String, "chat.completion.chunk")
            XCTAssertEqual(c["id"] as? String, chunks[0]["id"] as? String)
        }
        func choice(_ c: [String: Any]) -> [String: Any]? { (c["choices"] as? [[String: Any]])?.first }
        XCTAssertEqual((choice(chunks[0])?["delta"] as? [String: Any])?["role"] as? String, "assistant")
        // The usage chunk comes last, with no choices; the one before it finishes, with sources.
        let usageChunk = try XCTUnwrap(chunks.last)
        XCTAssertEqual((usageChunk["choices"] as? [Any])?.count, 0)
        let usage = try XCTUnwrap(usageChunk["usage"] as? [String: Int])
        let finalChunk = chunks[chunks.count - 2]
        XCTAssertNotNil(choice(finalChunk)?["finish_reason"] as? String)
        XCTAssertFalse((finalChunk["sources"] as? [Any] ?? []).isEmpty)
        let middle = chunks[1..<(chunks.count - 2)]
        XCTAssertTrue(middle.allSatisfy { choice($0)?["finish_reason"] is NSNull })
        let streamed = middle.compactMap { (choice($0)?["delta"] as? [String: Any])?["content"] as? String }.joined()
        // One content chunk per generated token, and one more when the citation check appended a
        // marker to an answer that cited nothing (" [2]", not a token of the model's).
        let last = middle.last.flatMap { (choice($0)?["delta"] as? [String: Any])?["content"] as? String } ?? ""
        let appended = middle.count > 1 && last.range(of: #"^ ?\[[0-9]+\]$"#, options: .regularExpression) != nil
        XCTAssertEqual(usage["completion_tokens"], middle.count - (appended ? 1 : 0))

        // Same request whole: the same text (temperature 0 by default).
        let whole = try await server.post("/v1/chat/completions", json: [
            "model": m.generator, "messages": [["role": "user", "content": TestBase.question]], "max_tokens": 64,
        ])
        let text = ((try whole.json()["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        XCTAssertEqual(streamed, text)
    }

    func testChatErrors() async throws {
        var r = try await server.request("POST", "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: Array("{\"messages\": [".utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().type, "invalid_request_error")
        XCTAssertEqual(try r.error().code, "invalid_json")

        r = try await server.post("/v1/chat/completions", json: ["model": "x"])
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().param, "messages")

        r = try await server.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "temperature": 5])
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().param, "temperature")

        r = try await server.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "temperature": "hot"])
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().param, "temperature")

        r = try await server.post("/v1/chat/completions", json: ["messages": [["role": "wizard", "content": "hi"]]])
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().param, "messages[0].role")

        r = try await server.post("/v1/chat/completions", json: ["messages": []])
        XCTAssertEqual(r.status, 400)

        r = try await server.post("/v1/chat/completions", json: ["model": "gpt-17", "messages": [["role": "user", "content": "hi"]]])
        XCTAssertEqual(r.status, 404)
        let e = try r.error()
        XCTAssertEqual(e.code, "model_not_found")
        XCTAssertEqual(e.param, "model")
        XCTAssertEqual(e.type, "invalid_request_error")
        let raw = try r.json()["error"] as? [String: Any]
        XCTAssertEqual(Set(raw?.keys ?? [:].keys), ["message", "type", "param", "code"])
    }

    // MARK: completions

    func testCompletionsWholeAndStreamed() async throws {
        let r = try await server.post("/v1/completions", json: ["prompt": "Once upon a time", "max_tokens": 5, "stop": ["zzz"]])
        XCTAssertEqual(r.status, 200, r.text)
        let json = try r.json()
        XCTAssertEqual(json["object"] as? String, "text_completion")
        let text = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        XCTAssertFalse(text.isEmpty)

        let stream = try await server.openStream("/v1/completions", json: ["prompt": "Once upon a time", "max_tokens": 5, "stream": true])
        let events = try await stream.all()
        XCTAssertEqual(events.last, "[DONE]")
        let chunks = try events.dropLast().map(parseJSON)
        let pieces = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["text"] as? String }
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertNotNil((chunks.last?["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String)

        let many = try await server.post("/v1/completions", json: ["prompt": ["a b", "c d"], "max_tokens": 3])
        XCTAssertEqual((try many.json()["choices"] as? [Any])?.count, 2)

        let bad = try await server.post("/v1/completions", json: ["max_tokens": 3])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try bad.error().param, "prompt")
    }

    // MARK: embeddings

    func testEmbeddingsFloatAndBase64Agree() async throws {
        let m = try await models()
        let f = try await server.post("/v1/embeddings", json: ["model": m.embedder, "input": ["first text", "second text"]])
        XCTAssertEqual(f.status, 200, f.text)
        let fj = try f.json()
        XCTAssertEqual(fj["object"] as? String, "list")
        let data = try XCTUnwrap(fj["data"] as? [[String: Any]])
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.map { $0["index"] as? Int }, [0, 1])
        let v0 = try XCTUnwrap(data[0]["embedding"] as? [Double])
        XCTAssertEqual(v0.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-3, "normalised")
        XCTAssertGreaterThan((fj["usage"] as? [String: Int])?["prompt_tokens"] ?? 0, 0)

        let b = try await server.post("/v1/embeddings", json: ["model": m.embedder, "input": "first text", "encoding_format": "base64"])
        XCTAssertEqual(b.status, 200, b.text)
        let encoded = try XCTUnwrap(((try b.json()["data"] as? [[String: Any]])?.first)?["embedding"] as? String)
        let bytes = try XCTUnwrap(Data(base64Encoded: encoded))
        let decoded = stride(from: 0, to: bytes.count, by: 4).map { i -> Double in
            var bits = UInt32(bytes[i])
            bits |= UInt32(bytes[i + 1]) << 8
            bits |= UInt32(bytes[i + 2]) << 16
            bits |= UInt32(bytes[i + 3]) << 24
            return Double(Float(bitPattern: bits))
        }
        XCTAssertEqual(decoded.count, v0.count)
        for (a, b) in zip(decoded, v0) { XCTAssertEqual(a, b, accuracy: 1e-6) }

        var r = try await server.post("/v1/embeddings", json: ["input": []])
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(try r.error().param, "input")
        r = try await server.post("/v1/embeddings", json: ["input": "x", "encoding_format": "int8"])
        XCTAssertEqual(try r.error().param, "encoding_format")
        r = try await server.post("/v1/embeddings", json: ["input": "x", "model": m.generator])
        XCTAssertEqual(r.status, 404)
        XCTAssertEqual(try r.error().code, "model_not_found")
    }

    // MARK: retrieve

    func testRetrieve() async throws {
        let r = try await server.post("/v1/retrieve", json: ["query": TestBase.question, "k": 2, "mode": "hybrid"])
        XCTAssertEqual(r.status, 200, r.text)
        let hits = try XCTUnwrap(try r.json()["hits"] as? [[String: Any]])
        XCTAssertFalse(hits.isEmpty)
        XCTAssertLessThanOrEqual(hits.count, 2)
        for h in hits {
            XCTAssertEqual(Set(h.keys).subtracting(["page", "section"]), ["file", "score", "text", "chunk_id"])
        }
        let q = try await server.post("/v1/retrieve", json: ["question": TestBase.question, "filter": "no/such/*.md"])
        XCTAssertEqual((try q.json()["hits"] as? [Any])?.count, 0)

        var bad = try await server.post("/v1/retrieve", json: ["k": 3])
        XCTAssertEqual(try bad.error().param, "query")
        bad = try await server.post("/v1/retrieve", json: ["query": "x", "mode": "psychic"])
        XCTAssertEqual(try bad.error().param, "mode")
        bad = try await server.post("/v1/retrieve", json: ["query": "x", "k": 0])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try bad.error().param, "k")
        // RAG's one rule: up to 1000 hits for a search, 50 passages for an answer.
        bad = try await server.post("/v1/retrieve", json: ["query": "x", "k": 1001])
        XCTAssertEqual(try bad.error().param, "k")
        XCTAssertTrue(try bad.error().message.contains("between 1 and 1000"), bad.text)
        let most = try await server.post("/v1/retrieve", json: ["query": "x", "k": 1000])
        XCTAssertEqual(most.status, 200, most.text)
    }

    // MARK: documents and jobs

    func testDocumentsUploadListDelete() async throws {
        let before = try await server.request("GET", "/v1/documents?offset=0&limit=1")
        XCTAssertEqual(before.status, 200, before.text)
        let total = try XCTUnwrap(try before.json()["total"] as? Int)
        XCTAssertLessThanOrEqual((try before.json()["data"] as? [Any])?.count ?? 99, 1)

        let upload = multipartBody(fileName: "zebras.txt", content: Array("Zebras are striped equids.\n\nThey live in Africa.".utf8))
        let created = try await server.request("POST", "/v1/documents", headers: ["Content-Type": upload.contentType], body: upload.body)
        XCTAssertEqual(created.status, 201, created.text)
        let doc = try created.json()
        let id = try XCTUnwrap(doc["id"] as? Int)
        XCTAssertTrue((doc["path"] as? String ?? "").hasSuffix("zebras.txt"))
        XCTAssertNotNil(doc["content_hash"] as? String)
        XCTAssertNotNil(doc["ingested_at"] as? String)

        let after = try await server.request("GET", "/v1/documents?limit=1000")
        XCTAssertEqual(try after.json()["total"] as? Int, total + 1)
        let ids = (try after.json()["data"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
        XCTAssertTrue(ids.contains(id))

        let gone = try await server.request("DELETE", "/v1/documents/\(id)")
        XCTAssertEqual(gone.status, 200, gone.text)
        XCTAssertEqual(try gone.json()["deleted"] as? Bool, true)
        let again = try await server.request("DELETE", "/v1/documents/\(id)")
        XCTAssertEqual(again.status, 404)
        XCTAssertEqual(try again.error().code, "document_not_found")
        do { let status = try await server.request("DELETE", "/v1/documents/abc").status; XCTAssertEqual(status, 400) }
        do { let status = try await server.request("GET", "/v1/documents?limit=0").status; XCTAssertEqual(status, 400) }
    }

    func testUploadRejectsHostileNamesAndBadForms() async throws {
        for name in ["../etc/passwd", "a/b.txt", "..", "x\\y.txt"] {
            let upload = multipartBody(fileName: name, content: Array("x".utf8))
            let r = try await server.request("POST", "/v1/documents", headers: ["Content-Type": upload.contentType], body: upload.body)
            XCTAssertEqual(r.status, 400, name)
            XCTAssertEqual(try r.error().param, "file", name)
        }
        let wrongField = multipartBody(field: "document", fileName: "a.txt", content: Array("x".utf8))
        var r = try await server.request("POST", "/v1/documents", headers: ["Content-Type": wrongField.contentType], body: wrongField.body)
        XCTAssertEqual(try r.error().code, "missing_field")
        r = try await server.request("POST", "/v1/documents", headers: ["Content-Type": "application/json"], body: Array("{}".utf8))
        XCTAssertEqual(try r.error().code, "invalid_content_type")
        r = try await server.request("POST", "/v1/documents", headers: ["Content-Type": "multipart/form-data; boundary=abc"], body: Array("garbage".utf8))
        XCTAssertEqual(try r.error().code, "invalid_multipart")
    }

    func testIngestJob() async throws {
        let r = try await server.request("POST", "/v1/ingest")
        XCTAssertEqual(r.status, 202, r.text)
        let id = try XCTUnwrap(try r.json()["id"] as? String)
        var status = ""
        var job: [String: Any] = [:]
        for _ in 0..<500 where status != "succeeded" && status != "failed" {
            job = try await server.request("GET", "/v1/jobs/\(id)").json()
            status = job["status"] as? String ?? ""
            if status == "running" { try await Task.sleep(for: .milliseconds(10)) }
        }
        XCTAssertEqual(status, "succeeded", "\(job)")
        let report = try XCTUnwrap(job["report"] as? [String: Any])
        for key in ["added", "changed", "removed", "unchanged", "chunks", "seconds"] { XCTAssertNotNil(report[key], key) }
        do { let status = try await server.request("GET", "/v1/jobs/job-999").status; XCTAssertEqual(status, 404) }
    }

    // MARK: health, metrics, misc

    func testHealthMetricsAndUnknownRoute() async throws {
        let h = try await server.request("GET", "/health")
        XCTAssertEqual(h.status, 200)
        XCTAssertEqual(try h.json()["status"] as? String, "ok")
        _ = try await server.post("/v1/retrieve", json: ["query": TestBase.question])
        _ = try await server.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": TestBase.question]], "max_tokens": 3])
        let m = try await server.request("GET", "/metrics")
        XCTAssertEqual(m.status, 200)
        XCTAssertTrue(m.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") ?? false)
        let text = m.text
        XCTAssertTrue(text.contains("rag_http_requests_total{route=\"/v1/retrieve\",method=\"POST\",status=\"200\"} 1"), text)
        XCTAssertTrue(text.contains("rag_http_request_duration_seconds_bucket{route=\"/v1/retrieve\",le=\"+Inf\"} 1"))
        XCTAssertTrue(text.contains("# TYPE rag_generation_queue_depth gauge\nrag_generation_queue_depth 0"))
        XCTAssertTrue(text.contains("rag_generated_tokens_total 3"), text)
        XCTAssertTrue(text.contains("rag_documents "))
        XCTAssertTrue(text.contains("rag_chunks "))

        let unknown = try await server.request("GET", "/v1/nothing")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(try unknown.error().type, "invalid_request_error")

        let echoed = try await server.request("GET", "/health", headers: ["X-Request-Id": "abc-123"])
        XCTAssertEqual(echoed.headers["x-request-id"], "abc-123")
        XCTAssertFalse((h.headers["x-request-id"] ?? "").isEmpty)
    }

    func testWebPageIsSelfContained() async throws {
        let r = try await server.request("GET", "/")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.headers["content-type"]?.hasPrefix("text/html") ?? false)
        let html = r.text
        XCTAssertTrue(html.contains("<script>"))
        XCTAssertTrue(html.contains("/v1/chat/completions"))
        XCTAssertTrue(html.contains("/v1/documents"))
        XCTAssertFalse(html.contains("src=\"http"), "no external assets")
        XCTAssertFalse(html.contains("href=\"http"), "no external assets")
    }
}
