import XCTest
@testable import Tensor

final class LayerGradientTests: XCTestCase {
    func testLinearAndNormLayers() throws {
        var rng = TensorRNG(seed: 41)
        let lin = Linear(4, 3, rng: &rng), ln = LayerNorm(3, eps: 1e-5), rms = RMSNorm(3)
        let x = randomTensor([2, 2, 4], seed: 42)
        try assertGradients([x] + lin.parameters() + ln.parameters() + rms.parameters()) {
            try rms(try ln(try lin(x)))
        }
        XCTAssertEqual(lin.namedParameters().map { $0.0 }, ["weight", "bias"])
    }

    func testMLPs() throws {
        var rng = TensorRNG(seed: 43)
        let x = randomTensor([3, 4], seed: 44)
        for act in [MLP.Activation.swiGLU, .gelu, .geluTanh] {
            let mlp = MLP(dim: 4, hidden: 5, activation: act, bias: act != .swiGLU, names: llamaMLPNames, rng: &rng)
            try assertGradients([x] + mlp.parameters()) { try mlp(x) }
        }
        let bert = MLP(dim: 4, hidden: 5, activation: .gelu, bias: true, names: ("intermediate.dense", "output.dense", ""), rng: &rng)
        XCTAssertEqual(bert.namedParameters().map { $0.0 },
                       ["intermediate.dense.weight", "intermediate.dense.bias", "output.dense.weight", "output.dense.bias"])
    }

    func testSelfAttentionLayer() throws {
        var rng = TensorRNG(seed: 45)
        let attn = SelfAttention(dim: 8, heads: 4, kvHeads: 2, qkvBias: true, outputBias: false, ropeTheta: 100,
                                 names: .llama, rng: &rng)
        let x = randomTensor([2, 3, 8], seed: 46)
        let pad = try Tensor([0, 0, 0, 0, 0, -1e9], shape: [2, 1, 1, 3])
        try assertGradients([x] + attn.parameters()) { try attn(x, causal: true) }
        try assertGradients([x] + attn.parameters()) { try attn(x, mask: pad, causal: false) }
        let bert = SelfAttention(dim: 8, heads: 2, qkvBias: true, outputBias: true,
                                 names: .init(query: "self.query", key: "self.key", value: "self.value", output: "output.dense"), rng: &rng)
        XCTAssertEqual(bert.namedParameters().map { $0.0 }.first, "self.query.weight")
        XCTAssertEqual(bert.namedParameters().map { $0.0 }.last, "output.dense.bias")
    }

    func testLoRA() throws {
        var rng = TensorRNG(seed: 47)
        let lin = Linear(5, 4, rng: &rng)
        let x = randomTensor([3, 5], seed: 48)
        let base = try lin(x).toArray()
        lin.enableLoRA(rank: 2, alpha: 4, rng: &rng)
        XCTAssertEqual(try lin(x).toArray(), base, "B starts at zero: the adapter changes nothing")
        XCTAssertEqual(lin.namedParameters().map { $0.0 }, ["weight", "bias", "lora_A.weight", "lora_B.weight"])
        guard let lora = lin.lora else { return XCTFail("no adapter") }
        for i in 0..<lora.b.count { lora.b.data[i] = Float(i % 3) - 1 }
        try assertGradients([x, lora.a, lora.b]) { try lin(x) }
        XCTAssertFalse(lin.weight.requiresGrad)
        let adapted = try lin(x).toArray()
        lora.merge()
        for (a, b) in zip(try lin(x).toArray(), adapted) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        lora.unmerge()
        for (a, b) in zip(try lin(x).toArray(), adapted) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testOptimizersAndSchedules() throws {
        // Minimise |w - target|^2 with each optimizer.
        let target = try Tensor([1, -2, 3, 0.5], shape: [2, 2])
        for useAdam in [true, false] {
            let w = Tensor(zeros: [2, 2], requiresGrad: true)
            let adam = AdamW(parameters: [w], learningRate: 0.1, weightDecay: 0)
            let sgd = SGD(parameters: [w], learningRate: 0.1, momentum: 0.9)
            for _ in 0..<300 {
                w.zeroGrad()
                try (w - target).square().sum().backward()
                if useAdam { adam.step() } else { sgd.step() }
            }
            for (a, b) in zip(w.toArray(), target.toArray()) { XCTAssertEqual(a, b, accuracy: 1e-2) }
        }
        // Decoupled decay shrinks a weight with zero gradient by lr * wd per step.
        let w = try Tensor([1, 1, 1, 1], shape: [2, 2], requiresGrad: true)
        w.grad = Tensor(zeros: [2, 2])
        let adam = AdamW(parameters: [w], learningRate: 0.1, weightDecay: 0.5)
        adam.step()
        XCTAssertEqual(w.toArray()[0], 0.95, accuracy: 1e-6)
        // Clipping by global norm.
        let g1 = Tensor(zeros: [2], requiresGrad: true), g2 = Tensor(zeros: [1], requiresGrad: true)
        g1.grad = try Tensor([3, 0], shape: [2]); g2.grad = try Tensor([4], shape: [1])
        XCTAssertEqual(clipGradNorm([g1, g2], maxNorm: 1), 5, accuracy: 1e-5)
        XCTAssertEqual(g2.grad?.toArray()[0] ?? 0, 0.8, accuracy: 1e-4)
        // Schedules.
        let cos = LRSchedule.cosine(peak: 1, minimum: 0.1, warmup: 10, total: 110)
        XCTAssertEqual(cos.learningRate(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.learningRate(at: 60), 0.55, accuracy: 1e-5)
        XCTAssertEqual(cos.learningRate(at: 500), 0.1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.linearWarmup(peak: 2, warmup: 4).learningRate(at: 1), 1, accuracy: 1e-6)
        XCTAssertEqual(LRSchedule.constant(3).learningRate(at: 77), 3)
    }
}
