import Foundation
import XCTest
@testable import Tokenizers

/// all-MiniLM-L6-v2 against ids from Hugging Face tokenizers (scripts/fixtures/make_tokenizer_fixtures.py).
final class WordPieceParityTests: XCTestCase {
    private var folder: URL { FixtureSupport.modelsDirectory.appendingPathComponent("all-MiniLM-L6-v2") }

    private func loadTokenizer() throws -> WordPieceTokenizer {
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("vocab.txt").path) else {
            throw XCTSkip("all-MiniLM-L6-v2 not found at \(folder.path); run scripts/fetch-models.sh")
        }
        return try WordPieceTokenizer(directory: folder)
    }

    func testIdsMatchHuggingFaceForEveryFixtureText() throws {
        let tokenizer = try loadTokenizer()
        XCTAssertEqual(tokenizer.maxLength, 256)
        XCTAssertEqual([tokenizer.padID, tokenizer.unkID, tokenizer.clsID, tokenizer.sepID], [0, 100, 101, 102])
        XCTAssertEqual(tokenizer.vocabSize, 30522)
        let cases = try FixtureSupport.cases("minilm_ids")
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            let full = try XCTUnwrap(c["ids"] as? [Int])
            // Hugging Face parses `[CLS]` … written in the text; so do we when asked (parseSpecial).
            XCTAssertEqual(tokenizer.encode(text, maxLength: Int.max, parseSpecial: true), full, "text: \(text.prefix(60))")
            XCTAssertEqual(tokenizer.encode(text, parseSpecial: true), c["ids_max256"] as? [Int], "truncated: \(text.prefix(60))")
            let bare = try XCTUnwrap(c["ids_no_special"] as? [Int])
            XCTAssertEqual(tokenizer.encode(text, maxLength: Int.max, addSpecialTokens: false, parseSpecial: true), bare)
            XCTAssertEqual(tokenizer.countTokens(text), tokenizer.encode(text, maxLength: Int.max, addSpecialTokens: false).count)
            if !["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"].contains(where: text.contains) {
                XCTAssertEqual(tokenizer.encode(text, maxLength: Int.max), full, "as text: \(text.prefix(60))")
            }
            XCTAssertEqual(tokenizer.decode(full), c["decoded"] as? String, "decode: \(text.prefix(60))")
        }
    }

    /// `[CLS]`, `[SEP]`, `[MASK]` … written in a document are text: the only special ids are the
    /// [CLS] … [SEP] framing the encoder adds itself.
    func testSpecialTokensWrittenInTextAreText() throws {
        let tokenizer = try loadTokenizer()
        let text = "Ignore [CLS] this [SEP] and [MASK] [PAD] [UNK] please"
        let ids = tokenizer.encode(text)
        XCTAssertEqual(ids.filter(tokenizer.specialIDs.contains), [tokenizer.clsID, tokenizer.sepID])
        XCTAssertEqual(ids.first, tokenizer.clsID)
        XCTAssertEqual(ids.last, tokenizer.sepID)
        XCTAssertEqual(tokenizer.decode(ids), "ignore [ cls ] this [ sep ] and [ mask ] [ pad ] [ unk ] please")
        XCTAssertEqual(tokenizer.countTokens(text), ids.count - 2)
        XCTAssertEqual(tokenizer.encode(text, parseSpecial: true).filter(tokenizer.specialIDs.contains).count, 7)
    }

    func testOffsetsMatchHuggingFace() throws {
        let tokenizer = try loadTokenizer()
        for c in try FixtureSupport.cases("minilm_ids") {
            let text = try XCTUnwrap(c["text"] as? String)
            let expected = try XCTUnwrap(c["offsets_no_special"] as? [[Int]])
            let ids = try XCTUnwrap(c["ids_no_special"] as? [Int])
            let got = tokenizer.encodeWithOffsets(text, maxLength: Int.max, addSpecialTokens: false, parseSpecial: true)
            XCTAssertEqual(got.ids, ids)
            XCTAssertEqual(got.offsets.count, expected.count)
            for (n, range) in got.offsets.enumerated() {
                XCTAssertEqual([range.lowerBound, range.upperBound], expected[n], "token \(n) of \(text.prefix(40))")
            }
        }
    }

    func testVocabTxtFolderGivesTheSameIds() throws {
        let tokenizer = try loadTokenizer()
        let copy = try FixtureSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in ["vocab.txt", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        let fromVocab = try WordPieceTokenizer(directory: copy)
        XCTAssertEqual(fromVocab.maxLength, 512)
        for c in try FixtureSupport.cases("minilm_ids") {
            let text = try XCTUnwrap(c["text"] as? String)
            XCTAssertEqual(fromVocab.encode(text, maxLength: 256), tokenizer.encode(text), "text: \(text.prefix(60))")
        }
    }
}
