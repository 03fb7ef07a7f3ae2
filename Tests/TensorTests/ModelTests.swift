import XCTest
@testable import Tensor

final class ModelTests: XCTestCase {
    /// Reverse a sequence of 4 digits: input "d1 d2 d3 d4 SEP", then the model must emit d4 d3 d2 d1.
    func testTinyTransformerLearnsToReverse() throws {
        let model = TinyLM(vocab: 6, dim: 16, layers: 2, heads: 4, kvHeads: 2, hidden: 32, seed: 1)
        XCTAssertLessThan(model.parameterCount, 6000)
        let params = model.parameters()
        let opt = AdamW(parameters: params, learningRate: 1e-2, weightDecay: 0)
        let schedule = LRSchedule.cosine(peak: 1e-2, minimum: 1e-3, warmup: 20, total: 400)
        var rng = TensorRNG(seed: 2)
        let n = 4, sep = 5, batch = 32
        func sample() -> (ids: [Int], targets: [Int]) {
            var ids: [Int] = [], targets: [Int] = []
            for _ in 0..<batch {
                let digits = (0..<n).map { _ in Int(rng.next() % 5) }
                let seq = digits + [sep] + digits.reversed()
                ids += seq.dropLast()
                // predict the reversed digits (positions after SEP); ignore the rest
                targets += [Int](repeating: -100, count: n) + Array(seq[(n + 1)...])
            }
            return (ids, targets)
        }
        var loss: Float = .infinity
        for step in 0..<400 {
            let (ids, targets) = sample()
            opt.learningRate = schedule.learningRate(at: step)
            let logits = try model(ids, batch: batch)
            let l = try logits.reshape([-1, 6]).crossEntropy(targets: targets)
            opt.zeroGrad()
            l.backward()
            clipGradNorm(params, maxNorm: 1)
            opt.step()
            loss = l.item
            if loss < 0.01 { break }
        }
        XCTAssertLessThan(loss, 0.05, "final training loss")
        // Exact-match accuracy on fresh sequences with greedy decoding of all positions at once.
        let (ids, targets) = sample()
        let logits = try noGrad { try model(ids, batch: batch) }.toArray()
        var correct = 0, total = 0
        for (row, t) in targets.enumerated() where t != -100 {
            let r = logits[(row * 6)..<(row * 6 + 6)]
            correct += r.firstIndex(of: r.max() ?? 0).map { $0 - row * 6 } == t ? 1 : 0
            total += 1
        }
        XCTAssertGreaterThan(Double(correct) / Double(total), 0.98)
    }

    func testKVCacheDecodingMatchesFullForward() throws {
        let model = TinyLM(vocab: 11, dim: 16, layers: 2, heads: 4, kvHeads: 2, hidden: 24, seed: 3)
        let ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]  // B = 2, T = 6
        let full = try noGrad { try model(ids, batch: 2) }          // [2, 6, 11]
        let cache = KVCache(layers: 2, batch: 2, kvHeads: 2, headDim: 4, maxLength: 8)
        // Prompt of 2 tokens, then one token at a time.
        var steps: [Tensor] = []
        try noGrad {
            steps.append(try model([3, 1, 2, 6], batch: 2, cache: cache))
            for t in 2..<6 { steps.append(try model([ids[t], ids[6 + t]], batch: 2, cache: cache)) }
        }
        XCTAssertEqual(cache.length, 6)
        let decoded = try Tensor.concat(steps, axis: 1)
        XCTAssertEqual(decoded.shape, full.shape)
        for (a, b) in zip(decoded.toArray(), full.toArray()) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        XCTAssertThrowsError(try noGrad { try model([1, 2, 3, 4, 5, 6], batch: 2, cache: cache) })  // 6 + 3 > 8
    }

    func testLoadChecksNamesAndShapes() throws {
        let model = TinyLM(vocab: 7, dim: 8, layers: 1, heads: 2, kvHeads: 1, hidden: 8, seed: 4)
        var tensors = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.denseCopy().affine(scale: 2, shift: 0)) })
        XCTAssertNotNil(tensors["model.layers.0.self_attn.q_proj.weight"])
        XCTAssertNotNil(tensors["model.layers.0.mlp.gate_proj.weight"])
        tensors["extra.unused"] = Tensor(zeros: [1])
        let before = model.head.weight.toArray()
        try model.load(from: tensors)
        XCTAssertEqual(model.head.weight.toArray(), before.map { $0 * 2 })
        var wrong = tensors
        wrong["model.layers.0.self_attn.k_proj.weight"] = Tensor(zeros: [3, 8])
        XCTAssertThrowsError(try model.load(from: wrong)) { e in
            XCTAssertTrue("\(e)".contains("model.layers.0.self_attn.k_proj.weight"))
        }
        var missing = tensors
        missing.removeValue(forKey: "model.norm.weight")
        XCTAssertThrowsError(try model.load(from: missing)) { e in XCTAssertTrue("\(e)".contains("model.norm.weight")) }
    }
}
