import XCTest
@testable import Tensor

final class AttentionTests: XCTestCase {
    func testAttentionGradients() throws {
        let q = randomTensor([2, 4, 3, 5], seed: 31), k = randomTensor([2, 2, 3, 5], seed: 32), v = randomTensor([2, 2, 3, 6], seed: 33)
        try assertGradients([q, k, v]) { try Tensor.attention(query: q, key: k, value: v, causal: true) }
        try assertGradients([q, k, v]) { try Tensor.attention(query: q, key: k, value: v, causal: false) }
        // Padding mask [B, 1, 1, Tk]: batch 1 cannot see its last key.
        let mask = try Tensor([0, 0, 0, 0, 0, -1e9], shape: [2, 1, 1, 3])
        try assertGradients([q, k, v]) { try Tensor.attention(query: q, key: k, value: v, causal: false, mask: mask) }
        // Fewer queries than keys (decoding over a cache), causal.
        let q1 = randomTensor([2, 4, 2, 5], seed: 34)
        try assertGradients([q1, k, v]) { try Tensor.attention(query: q1, key: k, value: v, causal: true, scale: 0.3) }
    }

    func testAttentionOnPermutedViews() throws {
        // [B, T, H, D] permuted to [B, H, T, D] goes to BLAS without a copy; result equals the dense path.
        let x = randomTensor([2, 3, 4, 5], seed: 35)
        let view = try x.permute([0, 2, 1, 3])
        let dense = view.contiguous()
        let a = try Tensor.attention(query: view, key: view, value: view, causal: true).toArray()
        let b = try Tensor.attention(query: dense, key: dense, value: dense, causal: true).toArray()
        for (p, r) in zip(a, b) { XCTAssertEqual(p, r, accuracy: 1e-5) }
        try assertGradients([x]) {
            let v = try x.permute([0, 2, 1, 3])
            return try Tensor.attention(query: v, key: v, value: v, causal: true)
        }
    }

    func testMaskedKeysGetNoWeight() throws {
        let q = randomTensor([1, 1, 2, 4], seed: 36), k = randomTensor([1, 1, 3, 4], seed: 37)
        let v = try Tensor([1, 0, 0, 1, 0, 0, 100, 100], shape: [1, 1, 4, 2]).slice(axis: 2, 0..<3)
        let mask = try Tensor([0, 0, -Float.infinity], shape: [1, 1, 1, 3])
        let y = try Tensor.attention(query: q, key: k, value: v, causal: false, mask: mask).toArray()
        for value in y { XCTAssertLessThanOrEqual(value, 1.0001) }  // the 100s are never mixed in
    }

    func testLargeAttentionEqualsComposedOps() throws {
        // Big enough to run (batch, head) pairs in parallel; reference built from matmul/softmax.
        let (b, h, t, d) = (2, 4, 48, 16)
        let q = randomTensor([b, h, t, d], seed: 38), k = randomTensor([b, h, t, d], seed: 39), v = randomTensor([b, h, t, d], seed: 40)
        var causal = [Float](repeating: 0, count: t * t)
        for i in 0..<t { for j in (i + 1)..<t where j < t { causal[i * t + j] = -.infinity } }
        let mask = try Tensor(causal, shape: [t, t])
        let reference = try noGrad {
            try (try q.matmul(try k.transpose(2, 3)) * (1 / Float(d).squareRoot()) + mask).softmax().matmul(v)
        }
        let fused = try noGrad { try Tensor.attention(query: q, key: k, value: v, causal: true) }
        let taped = try Tensor.attention(query: q, key: k.denseCopy().withGrad(), value: v, causal: true)
        for (x, y) in zip(fused.toArray(), reference.toArray()) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        XCTAssertEqual(fused.toArray(), taped.toArray())
    }
    func testRowBlocksWithGroupedHeadsMatchComposedOps() throws {
        // Several 64-row blocks, fewer queries than keys, two query heads per KV head: output and
        // gradients of the fused op equal those of matmul/softmax with the KV heads repeated.
        let (h, kvh, tq, tk, d) = (4, 2, 150, 170, 8)
        func inputs() -> (Tensor, Tensor, Tensor) {
            let q = randomTensor([1, h, tq, d], seed: 41), k = randomTensor([1, kvh, tk, d], seed: 42)
            let v = randomTensor([1, kvh, tk, d], seed: 43)
            for t in [q, k, v] { t.requiresGrad = true }
            return (q, k, v)
        }
        var rng = TensorRNG(seed: 44)
        let weights = Tensor.randn([1, h, tq, d], rng: &rng)

        let (q, k, v) = inputs()
        let fused = try Tensor.attention(query: q, key: k, value: v, causal: true)
        fused.backward(gradient: weights)

        let (qr, kr, vr) = inputs()
        func repeated(_ t: Tensor) throws -> Tensor {   // [1, KVH, Tk, D] -> [1, H, Tk, D]
            try Tensor.concat(try (0..<h).map { try t.slice(axis: 1, ($0 / (h / kvh))..<($0 / (h / kvh) + 1)) }, axis: 1)
        }
        var causal = [Float](repeating: 0, count: tq * tk)
        for i in 0..<tq { for j in 0..<tk where j > tk - tq + i { causal[i * tk + j] = -.infinity } }
        let mask = try Tensor(causal, shape: [tq, tk])
        let scores = try qr.matmul(try repeated(kr).transpose(2, 3)) * (1 / Float(d).squareRoot()) + mask
        let reference = try scores.softmax().matmul(try repeated(vr))
        reference.backward(gradient: weights)

        func assertClose(_ a: Tensor?, _ b: Tensor?, _ what: String) {
            guard let a, let b else { return XCTFail("\(what): no gradient") }
            for (x, y) in zip(a.toArray(), b.toArray()) where abs(x - y) > 1e-4 + 1e-4 * abs(y) {
                return XCTFail("\(what): \(x) vs \(y)")
            }
        }
        assertClose(fused, reference, "output")
        assertClose(q.grad, qr.grad, "dQ")
        assertClose(k.grad, kr.grad, "dK")
        assertClose(v.grad, vr.grad, "dV")
    }
}

extension Tensor {
    func withGrad() -> Tensor { requiresGrad = true; return self }
}
