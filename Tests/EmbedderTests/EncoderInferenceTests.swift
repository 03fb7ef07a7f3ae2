import XCTest
@testable import Embedder
@testable import Tensor

/// The encoder's inference path (packed sequences, fused ops, workspaces) against the autograd
/// path it replaces, and against itself over thread counts and group sizes.
final class EncoderInferenceTests: XCTestCase {
    /// Embeddings the autograd path computes (padded batch, masked attention), under noGrad.
    func autogradEmbeddings(_ model: BertModel, _ batch: PaddedBatch) throws -> [Float] {
        try noGrad {
            let hidden = try model.encode(ids: batch.ids, batch: batch.lengths.count, length: batch.length, lengths: batch.lengths)
            return try model.pool(hidden, lengths: batch.lengths).l2NormalizedRows().toArray()
        }
    }

    func testInferencePathMatchesAutogradPath() throws {
        for mode in [PoolingConfig.Mode.mean, .cls] {
            let encoder = try tinyEncoder(seed: 3, layers: 2, pooling: mode)
            XCTAssertTrue(encoder.model.supportsInferencePath)
            let batch = PaddedBatch(tinyTexts.map(encoder.tokenize), padID: encoder.tokenizer.padID)
            let ref = try autogradEmbeddings(encoder.model, batch)
            for packFrom in [0, Int.max] {   // with packed weights (own GEMM) and without (BLAS)
                let fast = encoder.model.inferenceEmbeddings(ids: batch.ids, lengths: batch.lengths, packFrom: packFrom).toArray()
                let worst = zip(fast, ref).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 2e-5, "\(mode) pooling, packed from \(packFrom) tokens")
            }
            // encode() takes the inference path and agrees too.
            let encoded = try encoder.encode(tinyTexts, batchSize: 3)
            for (i, v) in encoded.enumerated() {
                XCTAssertGreaterThan(cosine(v, Array(ref[(i * 16)..<((i + 1) * 16)])), 0.99999, "text \(i)")
            }
        }
    }

    func testThreadCountsAndGroupSizesGiveTheSameEmbeddings() throws {
        let encoder = try tinyEncoder(seed: 5, layers: 2)
        let texts = (0..<23).map { i in tinyTexts[i % tinyTexts.count] + String(repeating: " fish", count: i % 5) }
        let batch = PaddedBatch(texts.map(encoder.tokenize), padID: encoder.tokenizer.padID)
        let one = encoder.model.inferenceEmbeddings(ids: batch.ids, lengths: batch.lengths, threads: 1, packFrom: Int.max).toArray()
        for (threads, group, packFrom) in [(2, 1024, Int.max), (2, 10, 0), (3, 25, Int.max), (1, 1, 0), (1, 1024, 0)] {
            let other = encoder.model.inferenceEmbeddings(ids: batch.ids, lengths: batch.lengths, threads: threads,
                                                          groupTokens: group, packFrom: packFrom).toArray()
            XCTAssertLessThan(zip(one, other).map { abs($0 - $1) }.max() ?? 1, packFrom == 0 ? 1e-5 : 1e-6,
                              "\(threads) threads, groups of \(group) tokens, packed from \(packFrom)")
        }
    }

    func testPackedWeightsFollowTheWeightsWhenTheyChange() throws {
        let encoder = try tinyEncoder(seed: 11, layers: 2)
        let batch = PaddedBatch(tinyTexts.map(encoder.tokenize), padID: encoder.tokenizer.padID)
        func agree(_ what: String) throws {
            let fast = encoder.model.inferenceEmbeddings(ids: batch.ids, lengths: batch.lengths, packFrom: 0).toArray()
            let ref = try autogradEmbeddings(encoder.model, batch)
            XCTAssertLessThan(zip(fast, ref).map { abs($0 - $1) }.max() ?? 1, 2e-5, what)
        }
        try agree("first use packs")
        // An optimizer step: every parameter with a gradient changes.
        let loss = try encoder.embed(tokenized: tinyTexts.map(encoder.tokenize)).sum()
        try loss.backward()
        let optimizer = AdamW(parameters: encoder.model.parameters(), learningRate: 0.05)
        optimizer.step()
        try agree("after an optimizer step")
        // Loading weights by name (one projection replaced).
        let (name, layer) = encoder.model.linearLayers()[2]
        try layer.load(from: ["weight": Tensor(repeating: 0.01, shape: layer.weight.shape),
                              "bias": Tensor(repeating: -0.1, shape: [layer.outFeatures])])
        try agree("after loading \(name)")
        // A LoRA adapter merged into its base weight.
        var rng = TensorRNG(seed: 12)
        layer.enableLoRA(rank: 2, alpha: 4, rng: &rng)
        if let b = layer.lora?.b { for i in 0..<b.count { b.data[i] = 0.2 } }
        layer.lora?.merge()
        try agree("after a LoRA merge")
    }

    func testUnmergedLoRAFallsBackToTheAutogradPath() throws {
        let encoder = try tinyEncoder(seed: 7, layers: 1)
        var rng = TensorRNG(seed: 9)
        let (_, layer) = encoder.model.linearLayers()[0]
        layer.enableLoRA(rank: 2, alpha: 4, rng: &rng)
        layer.lora?.training = false
        if let b = layer.lora?.b { for i in 0..<b.count { b.data[i] = 0.3 } }   // a visible adapter
        XCTAssertFalse(encoder.model.supportsInferencePath)
        let batch = PaddedBatch(tinyTexts.map(encoder.tokenize), padID: encoder.tokenizer.padID)
        let ref = try autogradEmbeddings(encoder.model, batch)
        let encoded = try encoder.encode(tinyTexts, batchSize: 8).flatMap { $0 }
        XCTAssertLessThan(zip(encoded, ref).map { abs($0 - $1) }.max() ?? 1, 1e-6)
        layer.lora?.merge()
        XCTAssertTrue(encoder.model.supportsInferencePath)
        let merged = try encoder.encode(tinyTexts, batchSize: 8).flatMap { $0 }
        XCTAssertLessThan(zip(merged, ref).map { abs($0 - $1) }.max() ?? 1, 2e-5)
    }
}
