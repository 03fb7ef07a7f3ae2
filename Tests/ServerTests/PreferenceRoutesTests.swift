import Foundation
import RAG
import Tokenizers
import XCTest

/// The ranking page and its routes (`rag-server --prefs FILE`): progress, one record at a time, a
/// ranking stored back into the file (and given in the terminal's format), the export for
/// `rag finetune dpo|rm`, behind the API key like every /v1 route.
final class PreferenceRoutesTests: XCTestCase {
    private func candidates(_ question: String, _ responses: [String]) -> CandidateSet {
        CandidateSet(question: question, prompt: [ChatMessage(role: "user", content: question)],
                     passages: [Passage(n: 1, file: "b.md", page: nil, section: nil, score: 0.8, text: "Beavers build dams.", chunkID: 1)],
                     responses: responses)
    }

    func testRankingThroughTheRoutesIsStoredInTheFile() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("prefs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("prefs.jsonl")
        try PreferenceFile.write([candidates("What do beavers build?", ["Dams [1].", "Nests.", "Dams and lodges [1]."]),
                                  candidates("Where do cormorants dive?", ["At sea.", "In rivers."])], to: file)
        let key = "rank-key"
        let server = try await ServerHarness.start(configure: { $0.apiKey = key; $0.prefs = file.path })
        let auth = ["Authorization": "Bearer \(key)"]

        let page = try await server.request("GET", "/rank")
        XCTAssertEqual(page.status, 200, "the page itself needs no key; its requests do")
        XCTAssertTrue(page.text.contains("Which answer is better?"))
        let noKey = try await server.request("GET", "/v1/preferences")
        XCTAssertEqual(noKey.status, 401)

        var progress = try await server.request("GET", "/v1/preferences", headers: auth).json()
        XCTAssertEqual(progress["total"] as? Int, 2)
        XCTAssertEqual(progress["ranked"] as? Int, 0)
        XCTAssertEqual(progress["next"] as? Int, 0)
        let record = try await server.request("GET", "/v1/preferences/0", headers: auth).json()
        XCTAssertEqual(record["question"] as? String, "What do beavers build?")
        XCTAssertEqual(record["responses"] as? [String], ["Dams [1].", "Nests.", "Dams and lodges [1]."])
        XCTAssertEqual((record["passages"] as? [[String: Any]])?.first?["file"] as? String, "b.md")

        for bad in [[0, 1], [0, 0, 1], [0, 1, 3]] {
            let r = try await server.post("/v1/preferences/0/ranking", json: ["ranking": bad], headers: auth)
            XCTAssertEqual(r.status, 400, "\(bad)")
            let message = try r.error().message
            XCTAssertTrue(message.contains("each of the 3 candidates"), message)
        }
        let missingField = try await server.post("/v1/preferences/0/ranking", json: ["order": [0]], headers: auth)
        XCTAssertEqual(missingField.status, 400)
        let noRecord = try await server.post("/v1/preferences/7/ranking", json: ["ranking": [0, 1]], headers: auth)
        XCTAssertEqual(noRecord.status, 404)
        let badIndex = try await server.request("GET", "/v1/preferences/x", headers: auth)
        XCTAssertEqual(badIndex.status, 400)

        let saved = try await server.post("/v1/preferences/0/ranking", json: ["ranking": [2, 0, 1]], headers: auth)
        XCTAssertEqual(saved.status, 200)
        XCTAssertEqual(try saved.json()["ranking"] as? [Int], [2, 0, 1])
        progress = try await server.request("GET", "/v1/preferences", headers: auth).json()
        XCTAssertEqual(progress["ranked"] as? Int, 1)
        XCTAssertEqual(progress["next"] as? Int, 1)
        XCTAssertEqual(try PreferenceFile.read(file)[0].ranking, [2, 0, 1], "the file on disk holds the ranking")

        let export = try await server.request("GET", "/v1/preferences/export", headers: auth)
        XCTAssertEqual(export.status, 200)
        let lines = export.text.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "only ranked records train")
        let exported = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(exported["ranking"] as? [Int], [2, 0, 1])
        XCTAssertNotNil(exported["prompt"], "the prompt the answers were given, as rag finetune dpo reads it")
        try await server.stop()

        let without = try await ServerHarness.start()
        let off = try await without.request("GET", "/v1/preferences")
        XCTAssertEqual(off.status, 404)
        XCTAssertEqual(try off.error().code, "preferences_off")
        try await without.stop()
    }
}
