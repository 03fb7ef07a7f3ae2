import Foundation
import XCTest
@testable import RAGServer

/// A server started with a LoRA adapter (the Generator's fixture adapter, made by transformers +
/// peft): /v1/models lists it, requests without `model` use it, and the plain generator stays
/// reachable by its own name.
final class AdapterTests: XCTestCase {
    var server: ServerHarness?

    /// Awaited here, also after a failed assertion threw, so no server outlives its test.
    override func tearDown() async throws {
        try await server?.stop()
        server = nil
    }

    func testAdapterIsListedUsedByDefaultAndSelectable() async throws {
        let server = try await ServerHarness.start(load: { try await TestBase.makeService(adapter: TestBase.adapter) })
        self.server = server

        let list = try await server.request("GET", "/v1/models")
        let data = try XCTUnwrap(try list.json()["data"] as? [[String: Any]])
        let adapter = try XCTUnwrap(data.first { $0["kind"] as? String == "adapter" }?["id"] as? String)
        let generator = try XCTUnwrap(data.first { $0["kind"] as? String == "generator" }?["id"] as? String)
        XCTAssertEqual(adapter, "smollm2_lora")

        func complete(_ model: String?) async throws -> (model: String, text: String) {
            var body: [String: Any] = ["prompt": "The three primary colours are", "max_tokens": 24, "temperature": 0]
            if let model { body["model"] = model }
            let r = try await server.post("/v1/completions", json: body)
            XCTAssertEqual(r.status, 200)
            let json = try r.json()
            let text = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first?["text"] as? String)
            return (try XCTUnwrap(json["model"] as? String), text)
        }
        let byDefault = try await complete(nil)
        let named = try await complete(adapter)
        let plain = try await complete(generator)
        XCTAssertEqual(byDefault.model, adapter)
        XCTAssertEqual(byDefault.text, named.text, "no model = the adapter")
        XCTAssertEqual(plain.model, generator)
        XCTAssertNotEqual(plain.text, named.text, "the adapter must change what the model writes")

        let unknown = try await server.post("/v1/completions", json: ["model": "other_lora", "prompt": "x", "max_tokens": 2])
        XCTAssertEqual(unknown.status, 404)
    }
}
