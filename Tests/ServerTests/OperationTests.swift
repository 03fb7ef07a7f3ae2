import Foundation
import RAG
import ServerTestSupport
import XCTest
@testable import RAGServer

/// Auth, limits, loading, queueing, disconnects, timeouts and shutdown. These use
/// `ScriptedService` with slow generation on purpose, whatever `TestBase` returns.
final class OperationTests: XCTestCase {
    static func scripted(tokenDelayMs: Int = 0, words: Int = 12, ingestDelayMs: Int = 0) -> ScriptedService {
        var s = ScriptedService.Script()
        s.tokenDelay = .milliseconds(tokenDelayMs)
        s.answerWords = words
        s.ingestDelay = .milliseconds(ingestDelayMs)
        return ScriptedService(script: s)
    }

    static var ask: [String: Any] { ["messages": [["role": "user", "content": "llama weight"]], "max_tokens": 1000] }

    func testAuthRequiredEverywhereButHealth() async throws {
        let server = try await ServerHarness.start(configure: { $0.apiKey = "s3cret-key" })
        let none = try await server.request("GET", "/v1/models")
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(try none.error().type, "authentication_error")
        do { let status = try await server.request("GET", "/v1/models", headers: ["Authorization": "Bearer s3cret-kez"]).status; XCTAssertEqual(status, 401) }
        do { let status = try await server.request("GET", "/v1/models", headers: ["Authorization": "Basic s3cret-key"]).status; XCTAssertEqual(status, 401) }
        do { let status = try await server.request("GET", "/metrics").status; XCTAssertEqual(status, 401) }
        do { let status = try await server.post("/v1/retrieve", json: ["query": "x"]).status; XCTAssertEqual(status, 401) }
        do { let status = try await server.request("GET", "/v1/models", headers: ["Authorization": "Bearer s3cret-key"]).status; XCTAssertEqual(status, 200) }
        do { let status = try await server.request("GET", "/v1/models", headers: ["Authorization": "bearer s3cret-key"]).status; XCTAssertEqual(status, 200) }
        do { let status = try await server.request("GET", "/health").status; XCTAssertEqual(status, 200) }
        try await server.stop()
    }

    func testWithoutKeyEverythingIsOpen() async throws {
        let server = try await ServerHarness.start()
        do { let status = try await server.request("GET", "/v1/models").status; XCTAssertEqual(status, 200) }
        try await server.stop()
    }

    func testConstantTimeCompare() {
        XCTAssertTrue(AuthMiddleware.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        XCTAssertFalse(AuthMiddleware.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        XCTAssertFalse(AuthMiddleware.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        XCTAssertFalse(AuthMiddleware.constantTimeEquals([], Array("a".utf8)))
        // Lengths that differ by a multiple of 256 must still differ.
        XCTAssertFalse(AuthMiddleware.constantTimeEquals([UInt8](repeating: 0, count: 256), []))
    }

    func testBodyLimits() async throws {
        let server = try await ServerHarness.start(configure: { $0.maxBodyBytes = 2000; $0.maxUploadBytes = 8000 })
        let big = String(repeating: "x", count: 3000)
        let r = try await server.post("/v1/retrieve", json: ["query": big])
        XCTAssertEqual(r.status, 413)
        XCTAssertEqual(try r.error().code, "request_too_large")
        // The upload route takes the larger limit...
        let ok = multipartBody(fileName: "big.txt", content: Array(big.utf8))
        do { let status = try await server.request("POST", "/v1/documents", headers: ["Content-Type": ok.contentType], body: ok.body).status; XCTAssertEqual(status, 201) }
        // ...and refuses beyond it.
        let tooBig = multipartBody(fileName: "huge.txt", content: [UInt8](repeating: 65, count: 9000))
        do { let status = try await server.request("POST", "/v1/documents", headers: ["Content-Type": tooBig.contentType], body: tooBig.body).status; XCTAssertEqual(status, 413) }
        // max_tokens is capped, max messages enforced.
        try await server.stop()
    }

    func testMaxTokensCapAndMessageLimit() async throws {
        let server = try await ServerHarness.start(configure: { $0.maxTokens = 3; $0.maxMessages = 2 },
                                                   load: { Self.scripted(words: 50) })
        let r = try await server.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "hi"]], "max_tokens": 500, "rag": false])
        XCTAssertEqual((try r.json()["usage"] as? [String: Int])?["completion_tokens"], 3)
        let many = try await server.post("/v1/chat/completions", json: ["messages": Array(repeating: ["role": "user", "content": "hi"], count: 3), "rag": false])
        XCTAssertEqual(many.status, 400)
        XCTAssertEqual(try many.error().param, "messages")
        try await server.stop()
    }

    func testHealthSaysLoadingUntilTheServiceIsReady() async throws {
        let (release, continuation) = AsyncStream<Void>.makeStream()
        let server = try await ServerHarness.start(load: {
            for await _ in release { break }
            return Self.scripted()
        }, waitUntilReady: false)
        let h = try await server.request("GET", "/health")
        XCTAssertEqual(h.status, 503)
        XCTAssertEqual(try h.json()["status"] as? String, "loading")
        let chat = try await server.post("/v1/chat/completions", json: Self.ask)
        XCTAssertEqual(chat.status, 503)
        XCTAssertEqual(try chat.error().code, "loading")
        XCTAssertEqual(chat.headers["retry-after"], "1")
        continuation.yield()
        try await server.waitForHealth()
        do { let status = try await server.request("GET", "/v1/models").status; XCTAssertEqual(status, 200) }
        try await server.stop()
    }

    func testQueueFullAnswers429WithRetryAfter() async throws {
        let service = Self.scripted(tokenDelayMs: 30, words: 200)
        let server = try await ServerHarness.start(configure: { $0.parallel = 1; $0.queue = 1 }, load: { service })
        var ask = Self.ask; ask["stream"] = true
        let running = try await server.openStream("/v1/chat/completions", json: ask)
        XCTAssertEqual(running.head.status, 200)
        _ = try await running.next()
        // The second waits in the queue (its head comes only when it gets the slot)...
        let queued = Task { try await server.openStream("/v1/chat/completions", json: ask) }
        try await waitUntil { await server.server.state.gate.queue.depth == 1 }
        // ...and the third finds the queue full.
        let refused = try await server.post("/v1/chat/completions", json: Self.ask)
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(try refused.error().code, "queue_full")
        XCTAssertNotNil(refused.headers["retry-after"].flatMap(Int.init))
        XCTAssertEqual(service.counters.peak, 1, "parallel = 1")
        running.connection.hangUp()
        let second = try await queued.value
        XCTAssertEqual(second.head.status, 200)
        second.connection.hangUp()
        try await server.stop()
    }

    func testClientDisconnectMidStreamFreesTheSlot() async throws {
        let service = Self.scripted(tokenDelayMs: 20, words: 10_000)
        let server = try await ServerHarness.start(configure: { $0.parallel = 1; $0.queue = 0 }, load: { service })
        var ask = Self.ask; ask["stream"] = true; ask["max_tokens"] = 2000
        let stream = try await server.openStream("/v1/chat/completions", json: ask)
        _ = try await stream.next()   // role
        _ = try await stream.next()   // first token
        XCTAssertEqual(service.counters.active, 1)
        stream.connection.hangUp()
        try await waitUntil { service.counters.cancelled == 1 && service.counters.active == 0 }
        try await waitUntil { await server.server.state.gate.queue.active == 0 }
        // With queue 0, a new request gets 200 only if the slot really is free.
        let next = try await server.post("/v1/chat/completions", json: ["messages": [["role": "user", "content": "x"]], "max_tokens": 2, "rag": false])
        XCTAssertEqual(next.status, 200, next.text)
        try await server.stop()
    }

    func testClientDisconnectWhileWaitingForWholeAnswer() async throws {
        let service = Self.scripted(tokenDelayMs: 20, words: 10_000)
        let server = try await ServerHarness.start(configure: { $0.parallel = 1; $0.queue = 0 }, load: { service })
        let port = server.port
        let body = Array(try JSONSerialization.data(withJSONObject: Self.ask))
        let connection = try await blocking { () -> RawHTTPConnection in
            let c = try RawHTTPConnection(port: port)
            try c.sendRequest(method: "POST", path: "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: body)
            return c
        }
        try await waitUntil { service.counters.active == 1 }
        connection.hangUp()
        try await waitUntil { service.counters.cancelled == 1 }
        try await server.stop()
    }

    func testRequestTimeout() async throws {
        let server = try await ServerHarness.start(configure: { $0.requestTimeout = 0.2 },
                                                   load: { Self.scripted(tokenDelayMs: 50, words: 1000) })
        let r = try await server.post("/v1/chat/completions", json: Self.ask)
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(try r.error().code, "timeout")
        try await server.stop()
    }

    func testRetrievalServesOthersDuringAnUpload() async throws {
        let service = Self.scripted()
        await service.seed()
        await service.uploadGate.close()
        let server = try await ServerHarness.start(load: { service })
        let upload = multipartBody(fileName: "slow.txt", content: Array("slow upload text".utf8))
        let uploading = Task { try await server.request("POST", "/v1/documents", headers: ["Content-Type": upload.contentType], body: upload.body) }
        try await waitUntil { await service.uploadGate.waiting == 1 }
        // The upload is now held inside addDocument; 32 other requests must all complete meanwhile.
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<16 {
                group.addTask { try await server.post("/v1/retrieve", json: ["query": "llama \(i)"]).status }
                group.addTask { try await server.post("/v1/embeddings", json: ["input": "text \(i)"]).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 32)
        XCTAssertTrue(results.allSatisfy { $0 == 200 })
        let stillWaiting = await service.uploadGate.waiting
        XCTAssertEqual(stillWaiting, 1, "the upload was in progress all along")
        await service.uploadGate.open()
        do { let status = try await uploading.value.status; XCTAssertEqual(status, 201) }
        try await server.stop()
    }

    func testGracefulShutdownFinishesStreamsAndStopsListening() async throws {
        let service = Self.scripted(tokenDelayMs: 20, words: 10_000)
        let server = try await ServerHarness.start(load: { service })
        var ask = Self.ask; ask["stream"] = true
        let stream = try await server.openStream("/v1/chat/completions", json: ask)
        _ = try await stream.next()
        _ = try await stream.next()
        let stopping = Task { try await server.stop() }
        let rest = try await stream.all()
        XCTAssertEqual(rest.last, "[DONE]", "the stream ends properly")
        let final = try parseJSON(rest[rest.count - 2])
        XCTAssertEqual((final["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "stop")
        try await stopping.value
        XCTAssertEqual(service.counters.cancelled, 1)
        let port = server.port
        let refused = try await blocking { () -> Bool in
            do { _ = try RawHTTPConnection(port: port); return false } catch { return true }
        }
        XCTAssertTrue(refused, "nothing listens after shutdown")
    }

    func testLoadFailureShutsDown() async throws {
        struct Broken: Error {}
        let server = try await ServerHarness.start(load: { throw Broken() }, waitUntilReady: false)
        do {
            try await server.run.value
            XCTFail("run should rethrow the load error")
        } catch {
            XCTAssertTrue(error is Broken, "\(error)")
        }
    }

    func waitUntil(timeout: Double = 5, _ condition: @Sendable () async -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("condition not met within \(timeout) s")
    }
}
