// The tokenizer the model builds from the real GGUF's metadata (through the GGUF reader) gives the
// reference ids of the Tokenizers fixtures (Tests/TokenizersTests/Fixtures/smollm2_ids.json, made
// with SmolLM2's own pre-tokenizer), and the chat template renders SmolLM2's default system message.

import XCTest
@testable import Generator
import Tokenizers

final class GGUFTokenizerTests: XCTestCase {
    private struct IDFixture: Decodable {
        struct Case: Decodable {
            let text: String
            let ids: [Int]
        }
        let cases: [Case]
    }

    func testGGUFBuiltTokenizerMatchesReferenceIDs() throws {
        let model = try RealModel.load()
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../TokenizersTests/Fixtures/smollm2_ids.json").standardizedFileURL
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("no \(url.path)") }
        let fixture = try JSONDecoder().decode(IDFixture.self, from: Data(contentsOf: url))
        XCTAssertGreaterThan(fixture.cases.count, 20)
        for c in fixture.cases {
            XCTAssertEqual(model.tokenizer.encode(c.text, parseSpecial: true), c.ids, c.text.debugDescription)
        }
    }

    func testChatPromptMatchesTheParityFixture() throws {
        let model = try RealModel.load()
        let fixture = try Fixtures.json("smollm2_parity.json", as: ParityFixture.self)
        for c in fixture.cases {
            let ids = try model.promptTokens(for: c.messages.map { ChatMessage(role: $0.role, content: $0.content) })
            XCTAssertEqual(ids, c.prompt_ids, c.messages.last?.content ?? "")
        }
        XCTAssertTrue(model.endOfTurnTokens.contains(2), "<|im_end|> (id 2) ends a turn")
    }
}
