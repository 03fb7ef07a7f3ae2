// `rag tokenizer train`: byte-level BPE learned from text. The vocabulary grows to the size asked
// for by the most frequent merges, training is deterministic, every text round-trips, the written
// tokenizer.json loads back with the same ids, and Hugging Face `tokenizers` gives the same ids on
// the file trained from the sample corpus (fixture by scripts/fixtures/make_trained_tokenizer_fixture.py).

import Foundation
import Ingest
import XCTest
@testable import Tokenizers

final class BPETrainerTests: XCTestCase {
    private let texts = [
        "the cat sat on the mat. the cat ate the rat.",
        "the quick brown fox jumps over the lazy dog; the dog sleeps.",
        "Numbers like 2024 and 3.14 are split digit by digit.",
        "the the the then there these those",
    ]

    func testTheVocabularyGrowsByTheMostFrequentMergesAndTextsRoundTrip() throws {
        var trainer = BPETrainer(vocabSize: 300)
        trainer.minFrequency = 2
        let tokenizer = try trainer.train(texts)
        XCTAssertGreaterThan(tokenizer.vocabSize, 259, "some merges were learned")
        XCTAssertLessThanOrEqual(tokenizer.vocabSize, 300)
        XCTAssertEqual(tokenizer.id(of: "<|endoftext|>"), 0)
        XCTAssertEqual(tokenizer.id(of: "<|im_end|>"), 2)
        XCTAssertEqual(tokenizer.special.eos, 0)
        XCTAssertEqual(tokenizer.encode(" the").count, 1, "the most frequent word is one token")
        XCTAssertEqual(tokenizer.encode("the").count, 1)
        XCTAssertEqual(tokenizer.encode("<|im_end|>", parseSpecial: true), [2])
        XCTAssertGreaterThan(tokenizer.encode("<|im_end|>").count, 1, "outside text never becomes a control token")
        XCTAssertEqual(tokenizer.encode("2024").count, 4, "digits one by one, as SmolLM2 splits them")
        for text in texts + ["unseen words: zebra, café, 東京 🙂", "  spaces\tand\nlines  ", ""] {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(text)), text)
        }
        // The file written loads back with the same ids; the same data trains the same tokenizer.
        let again = try trainer.train(texts)
        XCTAssertEqual(try tokenizer.tokenizerJSON(), try again.tokenizerJSON())
        let dir = try FixtureSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tokenizer.json")
        try tokenizer.tokenizerJSON().write(to: file)
        let loaded = try BPETokenizer(tokenizerJSON: file)
        for text in texts { XCTAssertEqual(loaded.encode(text), tokenizer.encode(text)) }

        var strict = BPETrainer(vocabSize: 100_000)
        strict.minFrequency = 1_000
        XCTAssertEqual(try strict.train(texts).vocabSize, 259, "no pair is frequent enough: bytes and specials only")
        XCTAssertThrowsError(try BPETrainer(vocabSize: 100).train(texts)) { XCTAssertTrue("\($0)".contains("259"), "\($0)") }
    }

    /// The tokenizer trained from the sample corpus is the file the fixture was made from, and our
    /// encoder gives Hugging Face's ids for it.
    func testTrainedOnTheCorpusHuggingFaceGivesTheSameIds() throws {
        let fixture = try FixtureSupport.fixture("trained_tokenizer_ids")
        let vocab = try XCTUnwrap(fixture["vocab_size"] as? Int)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // The texts as `rag tokenizer train --data corpus` reads a folder: .txt/.md files in path order.
        let corpus = root.appendingPathComponent("corpus")
        let walker = try XCTUnwrap(FileManager.default.enumerator(at: corpus, includingPropertiesForKeys: nil))
        var files: [URL] = []
        for case let f as URL in walker where ["txt", "text", "md", "markdown"].contains(f.pathExtension.lowercased()) { files.append(f) }
        let texts = try files.sorted { $0.path < $1.path }.map { try String(contentsOf: $0, encoding: .utf8) }.filter { !$0.isEmpty }
        let tokenizer = try BPETrainer(vocabSize: vocab).train(texts)
        XCTAssertEqual(tokenizer.vocabSize, vocab)
        XCTAssertEqual(ContentHash.sha256(of: try tokenizer.tokenizerJSON()), fixture["tokenizer_sha256"] as? String,
                       "the trainer writes the file the fixture was made from (rerun the fixture script after changing it)")
        let cases = try FixtureSupport.cases("trained_tokenizer_ids")
        XCTAssertGreaterThan(cases.count, 5)
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String), ids = try XCTUnwrap(c["ids"] as? [Int])
            XCTAssertEqual(tokenizer.encode(text, parseSpecial: true), ids, text)
        }
    }
}
