import Foundation
import XCTest
import Tokenizers

/// A model folder's JSON files: errors name the file and the field, by its path in the file.
final class JSONFileTests: XCTestCase {
    private struct Config: Decodable {
        struct Layer: Decodable { var width: Int }
        var name: String
        var layers: [Layer]?
    }

    private func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("jsonfile-\(UUID().uuidString).json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func decodeError(_ text: String) throws -> JSONFileError? {
        let url = try write(text)
        do { _ = try JSONFile.decode(Config.self, from: url); return nil } catch { return error }
    }

    func testDecodesAndNamesTheFieldAtFault() throws {
        let url = try write(#"{"name": "tiny", "layers": [{"width": 8}, {"width": 16}], "extra": true}"#)
        let config = try JSONFile.decode(Config.self, from: url)
        XCTAssertEqual(config.name, "tiny")
        XCTAssertEqual(config.layers?.map(\.width), [8, 16])

        guard case let .invalidField(_, field, reason)? = try decodeError(#"{"name": 3}"#) else { return XCTFail() }
        XCTAssertEqual(field, "name"); XCTAssertEqual(reason, "must be a string")
        guard case let .invalidField(_, nested, nestedReason)? = try decodeError(#"{"name": "a", "layers": [{"width": 8}, {"width": "x"}]}"#)
        else { return XCTFail() }
        XCTAssertEqual(nested, "layers[1].width"); XCTAssertEqual(nestedReason, "must be an integer")
        guard case let .missingField(path, missing)? = try decodeError(#"{"layers": []}"#) else { return XCTFail() }
        XCTAssertEqual(missing, "name")
        XCTAssertTrue(JSONFileError.missingField(path: path, field: missing).description.hasSuffix(".json: missing field `name`"))
        guard case .invalidJSON? = try decodeError("[1, 2]") else { return XCTFail() }
        guard case .invalidJSON? = try decodeError("{not json") else { return XCTFail() }
    }

    func testObjectAndMissingFile() throws {
        XCTAssertEqual(try JSONFile.object(at: try write(#"{"a": 1}"#))["a"] as? Int, 1)
        let list = try write("[]")
        XCTAssertThrowsError(try JSONFile.object(at: list)) { error in
            XCTAssertEqual(error as? JSONFileError, .invalidJSON(path: list.path, reason: "top level is not an object"))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/rag/config.json")
        XCTAssertThrowsError(try JSONFile.object(at: missing)) { error in
            XCTAssertEqual(error as? JSONFileError, .missing(path: missing.path))
        }
    }
}
