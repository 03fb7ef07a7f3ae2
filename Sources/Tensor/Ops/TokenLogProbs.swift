import CKernels
import Foundation

// The language-model head fused with log-softmax and the pick of each row's target:
//   logp[r] = log softmax(h[r] Wᵀ)[target[r]]
// without ever holding the [rows, vocab] logits: W's rows (the vocabulary) are visited a tile at a
// time and each row's log-sum-exp is accumulated online. With a gradient needed, the same pass
// accumulates Σ_v exp(l_v - max) W_v, so that d logp[r] / d h[r] = (onehot(target) - softmax) W
// comes out at the end without computing the logits again (two products per tile, not three),
// kept per row ([U, C]) so backward is one scale per row. Rows whose target is `ignoreIndex` cost
// nothing and give 0.
// (SFT's cross-entropy is -mean(logp) of the kept rows; DPO sums them per sequence.)

extension Tensor {
    /// h: [..., C]; head W: [V, C] (frozen); one target per row of h. Result: [...] (h's shape
    /// without its last dim). The products with W in `precision`.
    public static func targetLogProbs(_ h: Tensor, head w: FrozenMatrix, targets: [Int], ignoreIndex: Int = -100,
                                      precision: FrozenPrecision = .float32) throws -> Tensor {
        let c = w.cols, vocab = w.rows
        guard h.rank >= 1, h.shape[h.rank - 1] == c else {
            throw TensorError.shapeMismatch("targetLogProbs: hidden \(h.shape) with head [\(vocab), \(c)]")
        }
        let rows = h.count / Swift.max(c, 1)
        guard targets.count == rows else {
            throw TensorError.shapeMismatch("targetLogProbs: \(targets.count) targets for \(rows) rows")
        }
        if let bad = targets.first(where: { $0 != ignoreIndex && ($0 < 0 || $0 >= vocab) }) {
            throw TensorError.invalidArgument("targetLogProbs: target \(bad) out of range 0..<\(vocab)")
        }
        let used = targets.indices.filter { targets[$0] != ignoreIndex }
        let out = Tensor(zeros: Array(h.shape.dropLast()))
        guard !used.isEmpty else { return out }
        let u = used.count
        // The kept rows, packed: hu [U, C]
        let hc = h.contiguousData()
        let hu = UnsafeMutablePointer<Float>.allocate(capacity: u * c)
        defer { hu.deallocate() }
        for (k, r) in used.enumerated() { (hu + k * c).update(from: hc.data + r * c, count: c) }
        let tgt = used.map { targets[$0] }
        let tile = Swift.min(vocab, 2048)
        let bf16 = precision == .bfloat16 && FrozenPrecision.bfloat16IsAvailable
        /// C[m, n] (+)= A[m, k] op(B) in the chosen precision.
        func product(transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
            if bf16 {
                Threads.sgemmBF16(transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, accumulate: accumulate, c: c, ldc: ldc)
            } else {
                Threads.sgemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                              beta: accumulate ? 1 : 0, c: c, ldc: ldc)
            }
        }
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: u * tile)
        defer { logits.deallocate() }
        let needsGrad = GradMode.isEnabled && h.requiresGrad

        // One pass over the vocabulary, a tile at a time, keeping per row the running maximum m,
        // s = Σ exp(l - m) and, with a gradient needed, a = Σ exp(l - m) W_v ([U, C]); a row's old
        // sums are rescaled by exp(m_old - m_new) when its maximum rises (the online softmax).
        // Then lse = m + log s, and d logp / dh = W_target - a / s (= (onehot - softmax) W).
        var runMax = [Float](repeating: -.infinity, count: u), runSum = [Float](repeating: 0, count: u)
        var picked = [Float](repeating: 0, count: u)
        let acc = Tensor(zeros: needsGrad ? [u, c] : [0])      // a, then the gradient [U, C]
        let targetRows = Tensor(zeros: needsGrad ? [u, c] : [0])   // W_target per row
        w.forEachRowTile(tileRows: tile) { range, wt in
            let n = range.count
            product(transB: true, m: u, n: n, k: c, a: hu, lda: c, b: wt, ldb: c, accumulate: false, c: logits, ldc: n)
            runMax.withUnsafeMutableBufferPointer { maxP in
                runSum.withUnsafeMutableBufferPointer { sumP in
                    picked.withUnsafeMutableBufferPointer { pickP in
                        let mp = maxP.baseAddress!, sp = sumP.baseAddress!, pp = pickP.baseAddress!
                        Threads.parallelFor(u, costPerItem: 8 * n) { part in
                            for k in part {
                                let row = logits + k * n
                                if range.contains(tgt[k]) {
                                    pp[k] = row[tgt[k] - range.lowerBound]
                                    if needsGrad { (targetRows.data + k * c).update(from: wt + (tgt[k] - range.lowerBound) * c, count: c) }
                                }
                                var tileMax = -Float.infinity
                                for j in 0..<n { tileMax = Swift.max(tileMax, row[j]) }
                                guard tileMax > -.infinity else {                    // adds nothing to the sums
                                    if needsGrad { for j in 0..<n { row[j] = 0 } }
                                    continue
                                }
                                let newMax = Swift.max(mp[k], tileMax)
                                let inv = ck_softmax_unnormalized_f32(row, n)       // row = exp(l - tileMax); Σ = 1 / inv
                                let f = Foundation.exp(tileMax - newMax), rescale = Foundation.exp(mp[k] - newMax)
                                sp[k] = sp[k] * rescale + f / inv
                                mp[k] = newMax
                                if needsGrad {
                                    for j in 0..<n { row[j] *= f }                   // exp(l - newMax)
                                    if rescale != 1 { let a = acc.data + k * c; for j in 0..<c { a[j] *= rescale } }
                                }
                            }
                        }
                    }
                }
            }
            // a += exp(l - m)[U, n] W[range]
            if needsGrad {
                product(transB: false, m: u, n: c, k: n, a: logits, lda: n, b: wt, ldb: c, accumulate: true, c: acc.data, ldc: c)
            }
        }
        for (k, r) in used.enumerated() { out.data[r] = picked[k] - (runMax[k] + Foundation.log(runSum[k])) }
        guard needsGrad else { return out }
        let grad = acc
        for k in 0..<u {
            let g = grad.data + k * c, t = targetRows.data + k * c, invSum = 1 / runSum[k]
            for j in 0..<c { g[j] = t[j] - g[j] * invSum }
        }
        return record(out, inputs: [h]) { g in
            let gc = g.contiguousData()
            let gh = Tensor(zeros: h.shape)
            for (k, r) in used.enumerated() {
                let s = gc.data[r]
                let src = grad.data + k * c, dst = gh.data + r * c
                for j in 0..<c { dst[j] = s * src[j] }
            }
            h.receiveGrad(gh, owned: true)
        }
    }
}
