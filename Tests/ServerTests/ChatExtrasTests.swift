import Foundation
import XCTest
@testable import RAGServer

/// The project's extras in a chat request's "rag" field, as a client writes them.
final class ChatExtrasTests: XCTestCase {
    func decode(_ json: String) throws -> ChatCompletionRequest {
        try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
    }

    func testCitationCheckIsOnUnlessTheRequestTurnsItOff() throws {
        let messages = #""messages": [{"role": "user", "content": "hi"}]"#
        XCTAssertNil(try decode("{\(messages)}").rag)
        XCTAssertEqual(try decode(#"{\#(messages), "rag": {"k": 3}}"#).rag?.checkCitations, true)
        XCTAssertEqual(try decode(#"{\#(messages), "rag": true}"#).rag?.checkCitations, true)
        let off = try decode(#"{\#(messages), "rag": {"k": 3, "check_citations": false}}"#).rag
        XCTAssertEqual(off?.checkCitations, false)
        XCTAssertEqual(off?.k, 3)
        XCTAssertThrowsError(try decode(#"{\#(messages), "rag": {"check_citations": "no"}}"#))
    }
}
