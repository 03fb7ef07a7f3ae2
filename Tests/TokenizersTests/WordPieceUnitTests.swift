import Foundation
import XCTest
@testable import Tokenizers

/// WordPiece on a tiny hand-made tokenizer.json (no model files needed).
final class WordPieceUnitTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try FixtureSupport.temporaryDirectory()
        let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "a", "##b", "b", ".", "hello", "world", "cafe", "中"]
        let json: [String: Any] = [
            "added_tokens": [["id": 0, "content": "[PAD]", "special": true], ["id": 1, "content": "[UNK]", "special": true],
                             ["id": 2, "content": "[CLS]", "special": true], ["id": 3, "content": "[SEP]", "special": true]],
            "normalizer": ["type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                           "strip_accents": NSNull(), "lowercase": true],
            "pre_tokenizer": ["type": "BertPreTokenizer"],
            "post_processor": ["type": "BertProcessing", "cls": ["[CLS]", 2], "sep": ["[SEP]", 3]],
            "model": ["type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100,
                      "vocab": Dictionary(uniqueKeysWithValues: vocab.enumerated().map { ($1, $0) })],
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func tokenizer() throws -> WordPieceTokenizer { try WordPieceTokenizer(directory: directory) }

    func testGreedyLongestMatchWithContinuations() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.encode("unaffable"), [2, 4, 5, 6, 3])
        XCTAssertEqual(t.encode("ab b"), [2, 7, 8, 9, 3])
        XCTAssertEqual(t.decode(t.encode("unaffable ab.")), "unaffable ab.")
        XCTAssertEqual([t.clsID, t.sepID, t.padID, t.unkID, t.vocabSize], [2, 3, 0, 1, 15])
    }

    func testNormalisationLowercasesStripsAccentsAndIsolatesCJK() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.encode("HeLLo CAFÉ\u{0}", addSpecialTokens: false), [11, 13])
        XCTAssertEqual(t.encode("hello中world", addSpecialTokens: false), [11, 14, 12])
        XCTAssertEqual(t.encode("hello.world", addSpecialTokens: false), [11, 10, 12])
    }

    func testUnknownWordsBecomeOneUNK() throws {
        let t = try tokenizer()
        XCTAssertEqual(t.encode("hello unzzz world", addSpecialTokens: false), [11, 1, 12])  // "un" + no "##zzz"
        XCTAssertEqual(t.encode("😀", addSpecialTokens: false), [1])
        let long = String(repeating: "ab", count: 51)  // 102 characters > max_input_chars_per_word
        XCTAssertEqual(t.encode(long, addSpecialTokens: false), [1])
        XCTAssertEqual(t.countTokens("hello unzzz world " + long), 4)
    }

    func testTruncationKeepsSpecialTokensWithinMaxLength() throws {
        let t = try tokenizer()
        let text = Array(repeating: "hello world", count: 50).joined(separator: " ")
        XCTAssertEqual(t.maxLength, 512)
        XCTAssertEqual(t.encode(text).count, 102)
        XCTAssertEqual(t.encode(text, maxLength: 5), [2, 11, 12, 11, 3])
        XCTAssertEqual(t.encode(text, maxLength: 3, addSpecialTokens: false), [11, 12, 11])
        XCTAssertEqual(t.countTokens(text), 100)
        let withOffsets = t.encodeWithOffsets("x hello", maxLength: 4)
        XCTAssertEqual(withOffsets.ids, [2, 1, 11, 3])
        XCTAssertEqual(withOffsets.offsets, [0..<0, 0..<1, 2..<7, 0..<0])
    }

    func testMissingVocabularyIsAClearError() throws {
        let url = directory.appendingPathComponent("tokenizer.json")
        try #"{"model": {"type": "WordPiece", "unk_token": "[UNK]"}}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer(tokenizerJSON: url)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingField(path: url.path, field: "model.vocab"))
            XCTAssertEqual("\(error)", "\(url.path): missing field `model.vocab`")
        }
        try #"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try WordPieceTokenizer(tokenizerJSON: url)) { error in
            XCTAssertTrue("\(error)".contains("unk_token"), "\(error)")
        }
    }
}
