import Foundation
import XCTest
@testable import Embedder

/// Token ids and embeddings of all-MiniLM-L6-v2 against sentence-transformers' output
/// (scripts/fixtures/make_embedder_fixtures.py): 56 texts, English, Chinese, code, punctuation,
/// long and truncated, empty.
final class ParityTests: XCTestCase {
    struct Fixture: Decodable {
        let dimension: Int
        let max_seq_length: Int
        let texts: [String]
        let ids: [[Int]]
    }

    func testMiniLMMatchesSentenceTransformers() throws {
        let encoder = try SentenceEncoder.load(directory: try defaultModelDirectory())
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: try fixtureURL("minilm_texts.json")))
        let raw = try Data(contentsOf: try fixtureURL("minilm_embeddings.bin"))
        let reference: [Float] = raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(reference.count, fixture.texts.count * fixture.dimension)
        XCTAssertEqual(encoder.dimension, fixture.dimension)
        XCTAssertEqual(encoder.maxTokens, fixture.max_seq_length)

        // sentence-transformers parses `[CLS]` … written in a text; we read them as text (only the
        // encoder's framing adds them), so the reference is compared with the ids parsed as it does.
        let specials = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"]
        let tokenized = fixture.texts.map { encoder.tokenizer.encode($0, maxLength: encoder.maxTokens, parseSpecial: true) }
        for (text, (ids, parsed)) in zip(fixture.texts, zip(fixture.ids, tokenized)) {
            XCTAssertEqual(parsed, ids, "token ids of \(text.prefix(60).debugDescription)")
            if !specials.contains(where: text.contains) {
                XCTAssertEqual(encoder.tokenize(text), ids, "token ids of \(text.prefix(60).debugDescription)")
            } else {
                let asText = encoder.tokenize(text)
                let specialIDs: Set = [0, 100, 101, 102, 103]   // MiniLM's [PAD] [UNK] [CLS] [SEP] [MASK]
                XCTAssertEqual(asText.filter { specialIDs.contains($0) },
                               [encoder.tokenizer.clsID, encoder.tokenizer.sepID], "only the framing is special")
            }
        }
        let vectors = try encoder.encode(tokenized: tokenized, batchSize: 8)
        // The whole set in one call, with the weights packed for the tensor core's GEMM (as big batches run).
        let batch = PaddedBatch(tokenized, padID: encoder.tokenizer.padID)
        let packed = encoder.model.inferenceEmbeddings(ids: batch.ids, lengths: batch.lengths, packFrom: 0).toArray()
        var worst: Float = 1, worstPacked: Float = 1
        for i in vectors.indices {
            let ref = Array(reference[(i * fixture.dimension)..<((i + 1) * fixture.dimension)])
            let c = cosine(Array(packed[(i * fixture.dimension)..<((i + 1) * fixture.dimension)]), ref)
            worstPacked = min(worstPacked, c)
            XCTAssertGreaterThanOrEqual(c, 0.9999, "packed weights: cosine of text \(i)")
        }
        for (i, v) in vectors.enumerated() {
            let ref = Array(reference[(i * fixture.dimension)..<((i + 1) * fixture.dimension)])
            let c = cosine(v, ref)
            worst = min(worst, c)
            XCTAssertGreaterThanOrEqual(c, 0.9999, "cosine of text \(i) \(fixture.texts[i].prefix(60).debugDescription)")
            XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-4, "norm of text \(i)")
        }
        print("parity: \(vectors.count) texts, worst cosine \(worst), all in one call with packed weights \(worstPacked)")
    }
}
