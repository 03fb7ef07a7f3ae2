// Gradients of the ops the trainable Llama adds to the tensor core, against finite differences:
// RoPE with partial rotation in both pairings, the frozen (quantized or dense) linear layer, the
// fused head + log-softmax + target pick, and recomputed (checkpointed) blocks.

import Foundation
import XCTest
@testable import Tensor

final class TrainingOpTests: XCTestCase {
    func testRopePartialRotationBothLayouts() throws {
        for layout in [RopeLayout.halves, .interleaved] {
            for rotary in [4, 8] {
                let x = randomTensor([2, 3, 5, 8], seed: 3)
                try assertGradients([x]) { try x.rope(theta: 100, positionOffset: 2, rotaryDim: rotary, layout: layout) }
                // forward against the formula, one row
                let y = try x.rope(theta: 100, positionOffset: 2, rotaryDim: rotary, layout: layout).toArray()
                let xs = x.toArray(), p = 4   // row (0, 0, 4): position 2 + 4
                for i in 0..<(rotary / 2) {
                    let (a, b) = layout == .halves ? (i, i + rotary / 2) : (2 * i, 2 * i + 1)
                    let angle = Float(2 + p) * (1 / powf(100, Float(2 * i) / Float(rotary)))
                    XCTAssertEqual(y[p * 8 + a], xs[p * 8 + a] * cos(angle) - xs[p * 8 + b] * sin(angle), accuracy: 1e-5)
                    XCTAssertEqual(y[p * 8 + b], xs[p * 8 + b] * cos(angle) + xs[p * 8 + a] * sin(angle), accuracy: 1e-5)
                }
                for j in rotary..<8 { XCTAssertEqual(y[p * 8 + j], xs[p * 8 + j], "components past the rotary ones stay") }
            }
        }
    }

    func testFrozenLinearDenseAndQuantized() throws {
        let w = randomTensor([5, 6], seed: 1)
        let x = randomTensor([2, 3, 6], seed: 2)
        try assertGradients([x]) { try Tensor.linear(x, frozen: .dense(w)) }
        XCTAssertEqual(try Tensor.linear(x, frozen: .dense(w)).toArray(), try noGrad { try Tensor.linear(x, weight: w) }.toArray())
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        for (entry, _) in try CheckpointGGUFTests.expectedTensors() {
            let m = try file.matrix(entry.name)
            let xq = randomTensor([3, m.cols], seed: 4, std: 0.5)
            let dense = m.dequantized()
            // forward = x Wᵀ with W dequantized; backward = dy W from the blocks
            let y = try Tensor.linear(xq, frozen: .quantized(m)).toArray()
            let ref = try noGrad { try Tensor.linear(xq, weight: dense) }.toArray()
            for (a, b) in zip(y, ref) { XCTAssertEqual(a, b, accuracy: 2e-3 * max(1, abs(b)), entry.name) }
            try assertGradients([xq], eps: 1e-2, rtol: 1e-2, atol: 1e-2) { try Tensor.linear(xq, frozen: .quantized(m)) }
        }
    }

    func testTargetLogProbsMatchesLogSoftmaxAndItsGradient() throws {
        let vocab = 2100, c = 4   // two tiles of the vocabulary
        let head = randomTensor([vocab, c], seed: 5)
        let h = randomTensor([2, 3, c], seed: 6)
        let targets = [7, -100, 2099, 2048, 0, 1500]
        let out = try Tensor.targetLogProbs(h, head: .dense(head), targets: targets).toArray()
        let logp = try noGrad { try Tensor.linear(h, weight: head).logSoftmax() }.toArray()
        for (r, t) in targets.enumerated() {
            XCTAssertEqual(out[r], t == -100 ? 0 : logp[r * vocab + t], accuracy: 1e-4, "row \(r)")
        }
        try assertGradients([h], eps: 1e-2, rtol: 1e-2, atol: 2e-3) { try Tensor.targetLogProbs(h, head: .dense(head), targets: targets) }
        XCTAssertThrowsError(try Tensor.targetLogProbs(h, head: .dense(head), targets: [vocab, 0, 0, 0, 0, 0]))
        XCTAssertEqual(try Tensor.targetLogProbs(h, head: .dense(head), targets: [Int](repeating: -100, count: 6)).toArray(), [Float](repeating: 0, count: 6))
    }

    func testRecomputedBlockGivesTheSameGradients() throws {
        let x = randomTensor([3, 4], seed: 7), w = randomTensor([4, 4], seed: 8)
        try assertGradients([x, w]) {
            try Tensor.recomputed(x, parameters: [w]) { input in try Tensor.linear(input, weight: w).tanh() * input }
        }
        // parameters only (the block's input needs no gradient), as for the first layer of a LoRA model
        let x2 = randomTensor([3, 4], seed: 9)
        try assertGradients([w]) {
            try Tensor.recomputed(x2, parameters: [w]) { input in try Tensor.linear(input, weight: w).silu() }
        }
    }
}
