import Foundation
import XCTest
@testable import Embedder
@testable import Tensor

/// The encoder on small random weights: gradients, save/load, padding.
final class ArchitectureTests: XCTestCase {
    /// Backward through the whole encoder (embeddings, attention with a padding mask, GELU MLP,
    /// LayerNorms, mean pooling, normalisation) against central finite differences.
    func testFullEncoderGradientMatchesFiniteDifferences() throws {
        for mode in [PoolingConfig.Mode.mean, .cls] {
            let encoder = try tinyEncoder(seed: 7, pooling: mode)
            let model = encoder.model
            // Larger random weights than BERT's init so every part has a visible effect.
            var rng = TensorRNG(seed: 3)
            for (_, p) in model.namedParameters() {
                for i in 0..<p.count { p.data[i] += 0.3 * rng.normal() }
                p.storage.markModified()   // written through `data`: the inference path's packed weights must follow
            }
            let rows = ["the cat sat on the mat", "a dog", "bird flew"].map(encoder.tokenize)
            let batch = PaddedBatch(rows, padID: 0)
            let probe = Tensor.randn([rows.count, encoder.dimension], rng: &rng)
            func loss() throws -> Tensor { try (model(ids: batch.ids, lengths: batch.lengths) * probe).sum() }
            func lossValue() throws -> Double { Double(try noGrad { try loss() }.item) }

            try loss().backward()
            var checked = 0
            for (name, p) in model.namedParameters() {
                guard let grad = p.grad else { XCTFail("\(name) got no gradient"); continue }
                // Word-embedding rows of ids in use; the first rows of position/type tables; any element elsewhere.
                let candidates: [Int]
                if name.hasSuffix("word_embeddings.weight") {
                    candidates = [rows[0][1] * encoder.dimension + 2, rows[1][1] * encoder.dimension + 5]
                } else {
                    candidates = (0..<3).map { _ in Int(rng.next() % UInt64(min(p.count, 2 * encoder.dimension))) }
                }
                for i in candidates {
                    let saved = p.data[i], h: Float = 1e-2
                    func set(_ v: Float) { p.data[i] = v; p.storage.markModified() }
                    set(saved + h); let up = try lossValue()
                    set(saved - h); let down = try lossValue()
                    set(saved)
                    let numeric = (up - down) / Double(2 * h), analytic = Double(grad.data[i])
                    XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(abs(numeric), abs(analytic)) + 2e-3,
                                   "\(mode) d loss / d \(name)[\(i)]")
                    checked += 1
                }
            }
            XCTAssertGreaterThan(checked, 40)
            model.zeroGradients()
        }
    }

    func testSaveThenLoadGivesIdenticalEmbeddings() throws {
        let encoder = try tinyEncoder(seed: 11)
        let dir = try temporaryDirectory()
        try encoder.save(to: dir)
        for file in ["config.json", "model.safetensors", "vocab.txt", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), file)
        }
        let loaded = try SentenceEncoder.load(directory: dir)
        XCTAssertEqual(loaded.model.config, encoder.model.config)
        XCTAssertEqual(loaded.model.pooling, encoder.model.pooling)
        XCTAssertEqual(try loaded.encode(tinyTexts), try encoder.encode(tinyTexts))
        XCTAssertTrue(loaded.identity.hasPrefix(dir.lastPathComponent + "-"))
    }

    /// A text's embedding does not depend on what it is batched with (padding is masked out).
    func testEmbeddingIsIndependentOfBatchPadding() throws {
        let encoder = try tinyEncoder(seed: 5)
        let alone = try tinyTexts.map { try encoder.encode([$0], batchSize: 1)[0] }
        let batched = try encoder.encode(tinyTexts, batchSize: 16)
        let pairs = try encoder.encode(tinyTexts, batchSize: 3)
        for i in tinyTexts.indices {
            for (a, b) in zip(alone[i], batched[i]) { XCTAssertEqual(a, b, accuracy: 1e-5, "text \(i) alone vs batch of 8") }
            for (a, b) in zip(alone[i], pairs[i]) { XCTAssertEqual(a, b, accuracy: 1e-5, "text \(i) alone vs batches of 3") }
            XCTAssertEqual(alone[i].reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
        }
        // and different texts really do get different vectors
        XCTAssertLessThan(cosine(alone[0], alone[1]), 0.999)
    }

    func testBatchesAreGroupedByLengthAndCoverEveryInput() {
        let lengths = [5, 1, 9, 9, 3, 7, 2]
        let batches = LengthBatches(lengths: lengths, batchSize: 3).batches
        XCTAssertEqual(batches, [[2, 3, 5], [0, 4, 6], [1]])
        let padded = PaddedBatch([[1, 2, 3], [4]], padID: 0)
        XCTAssertEqual(padded.ids, [1, 2, 3, 4, 0, 0])
        XCTAssertEqual(padded.lengths, [3, 1])
    }
}

extension BertModel {
    func zeroGradients() { for p in parameters() { p.zeroGrad() } }
}
