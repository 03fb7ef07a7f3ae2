import CKernels
import Foundation

// The language-model head fused with log-softmax and the pick of each row's target:
//   logp[r] = log softmax(h[r] Wᵀ)[target[r]]
// without ever holding the [rows, vocab] logits: W's rows (the vocabulary) are visited a tile at a
// time and each row's log-sum-exp is accumulated online. With a gradient needed, a second pass
// over the tiles forms d logp[r] / d h[r] = (onehot(target) - softmax) W, kept per row ([U, C]) so
// backward is one scale per row. Rows whose target is `ignoreIndex` cost nothing and give 0.
// (SFT's cross-entropy is -mean(logp) of the kept rows; DPO sums them per sequence.)

extension Tensor {
    /// h: [..., C]; head W: [V, C] (frozen); one target per row of h. Result: [...] (h's shape
    /// without its last dim).
    public static func targetLogProbs(_ h: Tensor, head w: FrozenMatrix, targets: [Int], ignoreIndex: Int = -100) throws -> Tensor {
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
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: u * tile)
        defer { logits.deallocate() }

        // Pass 1: lse[r] = log Σ_v exp(l[r, v]) and the target's logit, tile by tile.
        var lse = [Float](repeating: -.infinity, count: u), picked = [Float](repeating: 0, count: u)
        w.forEachRowTile(tileRows: tile) { range, wt in
            let n = range.count
            Threads.sgemm(transA: false, transB: true, m: u, n: n, k: c, alpha: 1, a: hu, lda: c, b: wt, ldb: c,
                          beta: 0, c: logits, ldc: n)
            lse.withUnsafeMutableBufferPointer { lseP in
                picked.withUnsafeMutableBufferPointer { pickP in
                    let lp = lseP.baseAddress!, pp = pickP.baseAddress!
                    Threads.parallelFor(u, costPerItem: 8 * n) { part in
                        for k in part {
                            let row = logits + k * n
                            if range.contains(tgt[k]) { pp[k] = row[tgt[k] - range.lowerBound] }
                            var m = -Float.infinity
                            for j in 0..<n { m = Swift.max(m, row[j]) }
                            let inv = ck_softmax_unnormalized_f32(row, n)   // Σ exp(l - m) = 1 / inv
                            let tileLSE = m - Foundation.log(inv)
                            let a = lp[k], hi = Swift.max(a, tileLSE)
                            lp[k] = hi + Foundation.log(Foundation.exp(a - hi) + Foundation.exp(tileLSE - hi))
                        }
                    }
                }
            }
        }
        for (k, r) in used.enumerated() { out.data[r] = picked[k] - lse[k] }
        guard GradMode.isEnabled, h.requiresGrad else { return out }

        // Pass 2: dlogp/dh [U, C] = -(softmax - onehot) W, accumulated tile by tile.
        let grad = Tensor(zeros: [u, c])
        w.forEachRowTile(tileRows: tile) { range, wt in
            let n = range.count
            Threads.sgemm(transA: false, transB: true, m: u, n: n, k: c, alpha: 1, a: hu, lda: c, b: wt, ldb: c,
                          beta: 0, c: logits, ldc: n)
            lse.withUnsafeBufferPointer { lseP in
                let lp = lseP.baseAddress!
                Threads.parallelFor(u, costPerItem: 8 * n) { part in
                    for k in part {
                        let row = logits + k * n
                        var m = -Float.infinity
                        for j in 0..<n { m = Swift.max(m, row[j]) }
                        _ = ck_softmax_unnormalized_f32(row, n)       // exp(l - m)
                        let f = -Foundation.exp(m - lp[k])             // -softmax = -exp(l - lse)
                        for j in 0..<n { row[j] *= f }
                        if range.contains(tgt[k]) { row[tgt[k] - range.lowerBound] += 1 }
                    }
                }
            }
            // grad += (onehot - p)[U, n] W[range]
            Threads.sgemm(transA: false, transB: false, m: u, n: c, k: n, alpha: 1, a: logits, lda: n, b: wt, ldb: c,
                          beta: 1, c: grad.data, ldc: c)
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
