import XCTest
@testable import Tensor

final class OpGradientTests: XCTestCase {
    func testBroadcastArithmetic() throws {
        let a = randomTensor([2, 3, 4], seed: 1), b = randomTensor([3, 1], seed: 2)
        let c = randomTensor([4], seed: 3, positive: true)
        try assertGradients([a, b]) { try a + b }
        try assertGradients([a, b]) { try a - b }
        try assertGradients([a, b]) { try a * b }
        try assertGradients([a, c]) { try a / c }
        try assertGradients([b, a]) { try b * a }  // broadcast on the left operand
    }

    func testScalarAndUnary() throws {
        let a = randomTensor([3, 5], seed: 4), p = randomTensor([3, 5], seed: 5, positive: true)
        try assertGradients([a]) { (a * 3 + 1 - 2) / 4 }
        try assertGradients([a]) { 2 - a }
        try assertGradients([a]) { -a }
        try assertGradients([a]) { a.exp() }
        try assertGradients([p]) { p.log() }
        try assertGradients([p]) { p.sqrt() }
        try assertGradients([a]) { a.square() }
        try assertGradients([a]) { a.tanh() }
        try assertGradients([a]) { a.sigmoid() }
    }

    func testReductions() throws {
        let a = randomTensor([2, 3, 4], seed: 6)
        for axis in [0, 1, 2, -1] {
            try assertGradients([a]) { try a.sum(axis: axis) }
            try assertGradients([a]) { try a.mean(axis: axis, keepDim: true) }
            try assertGradients([a]) { try a.max(axis: axis) }
        }
        try assertGradients([a]) { a.sum() }
        try assertGradients([a]) { a.mean() }
        XCTAssertEqual(try a.sum(axis: 1, keepDim: true).shape, [2, 1, 4])
        XCTAssertEqual(try a.sum(axis: 1).shape, [2, 4])
    }

    func testMatmulForms() throws {
        let a = randomTensor([3, 4], seed: 7), b = randomTensor([4, 5], seed: 8)
        try assertGradients([a, b]) { try a.matmul(b) }
        let x = randomTensor([2, 3, 4], seed: 9)
        try assertGradients([x, b]) { try x.matmul(b) }             // [.., K] x [K, N]
        let y = randomTensor([2, 4, 5], seed: 10)
        try assertGradients([x, y]) { try x.matmul(y) }             // batched
        let z = randomTensor([2, 5, 4], seed: 11)
        try assertGradients([x, z]) { try x.matmul(try z.transpose(1, 2)) }   // transposed operand (no copy)
        try assertGradients([x, z]) { try z.transpose(1, 2).transpose(1, 2).matmul(try x.transpose(1, 2)) }
        let row = randomTensor([1, 4], seed: 12)
        try assertGradients([row, b]) { try row.matmul(b) }         // sgemv path
        try assertGradients([row, z]) { try row.matmul(try z.slice(axis: 0, 0..<1).reshape([5, 4]).transpose(0, 1)) }
    }

    func testLinear() throws {
        let x = randomTensor([2, 3, 4], seed: 13), w = randomTensor([5, 4], seed: 14), b = randomTensor([5], seed: 15)
        try assertGradients([x, w, b]) { try Tensor.linear(x, weight: w, bias: b) }
        let one = randomTensor([1, 4], seed: 16)
        try assertGradients([one, w]) { try Tensor.linear(one, weight: w) }
        // A permuted (non-flattenable) input.
        try assertGradients([x, w]) { try Tensor.linear(try x.permute([1, 0, 2]), weight: w) }
        // Matches matmul with the transposed weight.
        let y1 = try Tensor.linear(x, weight: w, bias: b).toArray()
        let y2 = try (try x.matmul(try w.transpose(0, 1)) + b).toArray()
        for (p, q) in zip(y1, y2) { XCTAssertEqual(p, q, accuracy: 1e-5) }
    }

    func testActivations() throws {
        let a = randomTensor([4, 6], seed: 17, std: 2)
        try assertGradients([a]) { a.gelu() }
        try assertGradients([a]) { a.geluTanh() }
        try assertGradients([a]) { a.silu() }
        try assertGradients([a]) { a.softmax() }
        try assertGradients([a]) { a.logSoftmax() }
    }

    func testNorms() throws {
        let x = randomTensor([3, 2, 8], seed: 18), w = randomTensor([8], seed: 19), b = randomTensor([8], seed: 20)
        try assertGradients([x, w]) { try x.rmsNorm(weight: w, eps: 1e-5) }
        try assertGradients([x, w, b]) { try x.layerNorm(weight: w, bias: b, eps: 1e-5) }
    }

    func testEmbeddingAndCrossEntropy() throws {
        let table = randomTensor([6, 3], seed: 21)
        try assertGradients([table]) { try Tensor.embedding(table, ids: [1, 4, 1, 0], shape: [2, 2]) }
        let logits = randomTensor([5, 7], seed: 22)
        try assertGradients([logits]) { try logits.crossEntropy(targets: [3, -100, 0, 6, 2]) }
        try assertGradients([logits]) { try logits.crossEntropy(targets: [1, 1, 1, 1, 1], ignoreIndex: 1) }
        try assertGradients([logits]) { try logits.logSoftmax().pick([0, 6, 2, 2, 5]) }
        // cross-entropy == -mean(logSoftmax picked at the targets)
        let ce = try logits.crossEntropy(targets: [0, 6, 2, 2, 5]).item
        XCTAssertEqual(ce, -(try logits.logSoftmax().pick([0, 6, 2, 2, 5]).mean().item), accuracy: 1e-5)
    }

    func testShapeOps() throws {
        let a = randomTensor([2, 3, 4], seed: 23), b = randomTensor([2, 2, 4], seed: 24)
        try assertGradients([a]) { try a.reshape([4, -1]) }
        try assertGradients([a]) { try a.permute([2, 0, 1]).contiguous() }
        try assertGradients([a]) { try a.permute([2, 0, 1]).reshape([4, 6]) }
        try assertGradients([a]) { try a.slice(axis: 1, 1..<3) }
        try assertGradients([a, b]) { try Tensor.concat([a, b, a], axis: 1) }
        try assertGradients([a]) {
            let parts = try a.split([1, 3], axis: 2)
            return try parts[1] * parts[0]
        }
        try assertGradients([a]) { try a.unsqueeze(1) }
        XCTAssertEqual(try a.transpose(0, 2).shape, [4, 3, 2])
    }

    func testRope() throws {
        let x = randomTensor([2, 3, 5, 8], seed: 25)
        try assertGradients([x]) { try x.rope(theta: 10000, positionOffset: 7) }
        // A rotation keeps norms; offset p then q equals a single offset of p+q per position.
        let y = try x.rope(theta: 10000).toArray()
        XCTAssertEqual(y.reduce(0) { $0 + $1 * $1 }, x.toArray().reduce(0) { $0 + $1 * $1 }, accuracy: 1e-2)
        let whole = try x.rope(theta: 500, positionOffset: 0).slice(axis: 2, 3..<5).toArray()
        let tail = try x.slice(axis: 2, 3..<5).rope(theta: 500, positionOffset: 3).toArray()
        for (p, q) in zip(whole, tail) { XCTAssertEqual(p, q, accuracy: 1e-5) }
    }

    func testDropout() throws {
        let a = randomTensor([50, 40], seed: 26)
        var rng = TensorRNG(seed: 5)
        let y = a.dropout(p: 0.25, training: true, rng: &rng).toArray()
        let zeros = y.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / 2000, 0.25, accuracy: 0.04)
        for (p, q) in zip(y, a.toArray()) where p != 0 { XCTAssertEqual(p, q / 0.75, accuracy: 1e-5) }
        var eval = TensorRNG(seed: 5)
        XCTAssertEqual(a.dropout(p: 0.25, training: false, rng: &eval).toArray(), a.toArray())
        let small = randomTensor([4, 5], seed: 27)
        try assertGradients([small]) {
            var r = TensorRNG(seed: 8)  // the same mask on every evaluation
            return small.dropout(p: 0.5, training: true, rng: &r)
        }
    }

    func testGradientsAccumulateUntilZeroGrad() throws {
        let w = randomTensor([3], seed: 28)
        w.requiresGrad = true
        let x = randomTensor([3], seed: 29)
        try (w * x).sum().backward()
        try (w * x).sum().backward()
        for (g, xi) in zip(w.grad?.toArray() ?? [], x.toArray()) { XCTAssertEqual(g, 2 * xi, accuracy: 1e-6) }
        w.zeroGrad()
        XCTAssertNil(w.grad)
        // Under noGrad nothing is recorded and no gradient buffer appears.
        let y = try noGrad { try w * x }
        XCTAssertFalse(y.requiresGrad)
    }

    func testShapeMismatchesThrow() {
        let a = Tensor(zeros: [2, 3]), b = Tensor(zeros: [4, 5])
        XCTAssertThrowsError(try a + b)
        XCTAssertThrowsError(try a.matmul(a))
        XCTAssertThrowsError(try Tensor(zeros: [2, 3, 4]).matmul(Tensor(zeros: [3, 4, 5])))
        XCTAssertThrowsError(try a.reshape([5, -1]))
        XCTAssertThrowsError(try a.sum(axis: 2))
        XCTAssertThrowsError(try a.slice(axis: 1, 2..<4))
        XCTAssertThrowsError(try a.permute([0, 0]))
        XCTAssertThrowsError(try Tensor.concat([a, b], axis: 0))
        XCTAssertThrowsError(try Tensor.embedding(a, ids: [2], shape: [1]))
        XCTAssertThrowsError(try a.crossEntropy(targets: [0]))
        XCTAssertThrowsError(try a.crossEntropy(targets: [0, 3]))
        XCTAssertThrowsError(try a.rmsNorm(weight: Tensor(zeros: [2]), eps: 1e-5))
        XCTAssertThrowsError(try Tensor.linear(a, weight: b))
        XCTAssertThrowsError(try Tensor(zeros: [1, 2, 3, 5]).rope(theta: 10000))
        let q = Tensor(zeros: [1, 3, 2, 4]), kv = Tensor(zeros: [1, 2, 2, 4])
        XCTAssertThrowsError(try Tensor.attention(query: q, key: kv, value: kv, causal: true))  // 3 heads over 2 KV heads
        XCTAssertThrowsError(try Tensor.attention(query: q, key: q, value: q, causal: false, mask: Tensor(zeros: [2, 1, 1, 2])))
    }
}
