import CBLAS
import Dispatch
import Foundation
import Tensor

// Inference-only multi-head self-attention over a padded batch, straight on the [B, T, H*D]
// projections: per (batch row, head) one sgemm for S = scale Q K^T over the row's real keys only,
// a softmax over those, one sgemm for O = P V written into its head's columns of [B, T, C].
// Compared with Tensor.attention + permute + contiguous, it skips padded keys and queries (no mask
// add, no exp of -inf), the permute copies and the broadcast-mask loop (~18% of encoder time).
// Stop-gap until Tensor.attention does the same; training uses Tensor.attention (with backward).

extension SelfAttention {
    /// x: [B, T, C], lengths: real tokens per row -> [B, T, C] (padded query rows are left zero
    /// before the output projection: nothing reads them except themselves).
    func inference(_ x: Tensor, lengths: [Int]) throws -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let q = try query(x), k = try key(x), v = try value(x)        // [B, T, H*D] each, dense
        let width = heads * headDim
        let context = Tensor(zeros: [b, t, width])                       // [B, T, H*D]
        let scale = 1 / Float(headDim).squareRoot()
        let jobs = b * heads
        let workers = Swift.min(Threads.count, jobs)
        let (d, hcount) = (headDim, heads)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let pq = q.data, pk = k.data, pv = v.data, po = context.data   // Tensors are Sendable; each job writes its own head columns
            var scores = [Float](repeating: 0, count: t * t)
            scores.withUnsafeMutableBufferPointer { s in
                guard let ps = s.baseAddress else { return }
                for job in stride(from: w, to: jobs, by: workers) {
                    let row = job / hcount, h = job % hcount, n = lengths[row]
                    let base = row * t * width + h * d
                    // S[n, n] = scale Q K^T  (Q, K: n rows of D values, stride H*D)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(d), scale,
                                pq + base, Int32(width), pk + base, Int32(width), 0, ps, Int32(n))
                    for i in 0..<n { softmaxInPlace(ps + i * n, n) }
                    // O[n, D] = P V, into this head's columns of the context
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(d), Int32(n), 1,
                                ps, Int32(n), pv + base, Int32(width), 0, po + base, Int32(width))
                }
            }
        }
        return try output(context)
    }
}

/// Softmax of n values in place, with 8-wide partial maxima and sums (vectorisable).
@inline(__always)
func softmaxInPlace(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var m8 = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    while i + 8 <= n {
        m8 = pointwiseMax(m8, UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self))
        i += 8
    }
    var m = m8.max()
    while i < n { m = Swift.max(m, p[i]); i += 1 }
    var sum: Float = 0
    for j in 0..<n { let e = expf(p[j] - m); p[j] = e; sum += e }
    let inv = 1 / sum
    for j in 0..<n { p[j] *= inv }
}
