import CKernels
import Foundation

// Scaled dot-product attention, fused per (batch, head): S = scale Q K^T + mask (+ causal),
// P = softmax(S), O = P V. Grouped KV heads: query head h reads KV head h / (H / KVH).
// Query rows go in blocks of 64 that skip the keys a causal mask hides.
// Backward: dP = dO V^T, dV += P^T dO, dS = P (dP - rowsum(dP P)) scale, dQ = dS K, dK += dS^T Q.

extension Tensor {
    /// q: [B, H, Tq, D], k: [B, KVH, Tk, D], v: [B, KVH, Tk, Dv] (views are fine, e.g. permuted
    /// [B, T, H, D]); H must be a multiple of KVH. `mask` is additive and broadcasts to
    /// [B, H, Tq, Tk] (e.g. a padding mask [B, 1, 1, Tk] of 0 / -inf). With `causal`, query i sits at
    /// position Tk - Tq + i (so new queries over a KV cache work) and sees keys j <= that.
    /// `scale` defaults to 1/sqrt(D). Result: [B, H, Tq, Dv].
    public static func attention(query q: Tensor, key k: Tensor, value v: Tensor, causal: Bool,
                                 mask: Tensor? = nil, scale: Float? = nil) throws -> Tensor {
        guard q.rank == 4, k.rank == 4, v.rank == 4 else {
            throw TensorError.shapeMismatch("attention: q \(q.shape), k \(k.shape), v \(v.shape) must be 4-D")
        }
        let (bsz, heads, tq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (kvHeads, tk, dv) = (k.shape[1], k.shape[2], v.shape[3])
        guard k.shape == [bsz, kvHeads, tk, d], v.shape[..<3] == k.shape[..<3], kvHeads > 0, heads % kvHeads == 0 else {
            throw TensorError.shapeMismatch("attention: q \(q.shape), k \(k.shape), v \(v.shape)")
        }
        guard !causal || tk >= tq else {
            throw TensorError.shapeMismatch("attention: causal needs at least as many keys (\(tk)) as queries (\(tq))")
        }
        let full = [bsz, heads, tq, tk]
        var maskView: Tensor?
        if let mask {
            guard (try? broadcastShape(mask.shape, full, op: "attention")) == full else {
                throw TensorError.shapeMismatch("attention: mask \(mask.shape) does not broadcast to \(full)")
            }
            maskView = mask.expanded(to: full)
        }
        let alpha = scale ?? 1 / Float(d).squareRoot()
        let group = heads / kvHeads
        // Dense [B, H, T, D] copies (views such as permuted [B, T, H, D] are copied once).
        let qc = q.contiguousData(), kc = k.contiguousData(), vc = v.contiguousData()
        let needsGrad = GradMode.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        // Probabilities: all kept for backward, else one [Tq, Tk] scratch per worker.
        let probs = Tensor(zeros: needsGrad ? full : [0])
        let out = Tensor(zeros: [bsz, heads, tq, dv])
        let blocks = RowBlocks(tq: tq, tk: tk, causal: causal)
        // (batch, head) pairs are independent in the forward pass: spread them over threads.
        Threads.parallelFor(bsz * heads, costPerItem: tq * tk * (d + dv) * 2) { range in
            let scratch = needsGrad ? probs : Tensor(zeros: [tq, tk])
            for bh in range {
                let b = bh / heads, h = bh % heads, bkv = b * kvHeads + h / group
                let p = scratch.data + (needsGrad ? bh * tq * tk : 0)                 // [Tq, Tk]
                let qh = qc.data + bh * tq * d, kh = kc.data + bkv * tk * d, vh = vc.data + bkv * tk * dv
                for (rows, keys) in blocks {
                    let pb = p + rows.lowerBound * tk
                    // S[rows, :keys] = alpha Q[rows] K[:keys]ᵀ
                    Threads.sgemm(transA: false, transB: true, m: rows.count, n: keys, k: d, alpha: alpha,
                                  a: qh + rows.lowerBound * d, lda: d, b: kh, ldb: d, beta: 0, c: pb, ldc: tk, threads: 1)
                    for i in rows {
                        let row = p + i * tk
                        if let m = maskView {
                            let base = m.storage.base + m.offset + b * m.strides[0] + h * m.strides[1] + i * m.strides[2]
                            let sj = m.strides[3]
                            for j in 0..<keys { row[j] += base[j * sj] }
                        }
                        let seen = blocks.keysSeen(by: i)
                        if seen < keys { for j in seen..<keys { row[j] = -.infinity } }
                        softmaxRow(row, row, keys)
                        if !needsGrad, keys < tk { for j in keys..<tk { row[j] = 0 } }
                    }
                    // O[rows] = P[rows, :keys] V[:keys]
                    Threads.sgemm(transA: false, transB: false, m: rows.count, n: dv, k: keys, alpha: 1, a: pb, lda: tk,
                                  b: vh, ldb: dv, beta: 0, c: out.data + (bh * tq + rows.lowerBound) * dv, ldc: dv, threads: 1)
                }
            }
        }
        guard needsGrad else { return out }
        return record(out, inputs: [q, k, v]) { g in
            let gc = g.contiguousData()
            let gq = Tensor(zeros: q.shape), gk = Tensor(zeros: k.shape), gv = Tensor(zeros: v.shape)
            // dK, dV per query head first ([B, H, Tk, D]), so that heads sharing a KV head can run
            // on different threads; then summed over each group.
            let gkH = group == 1 ? gk : Tensor(zeros: [bsz, heads, tk, d])
            let gvH = group == 1 ? gv : Tensor(zeros: [bsz, heads, tk, dv])
            Threads.parallelFor(bsz * heads, costPerItem: tq * tk * (d + dv) * 4) { range in
                let dp = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(tq * tk, 1))   // [Tq, Tk]
                defer { dp.deallocate() }
                for bh in range {
                    let bkv = (bh / heads) * kvHeads + (bh % heads) / group
                    let kh = kc.data + bkv * tk * d, vh = vc.data + bkv * tk * dv
                    let dk = gkH.data + bh * tk * d, dvp = gvH.data + bh * tk * dv
                    let p = probs.data + bh * tq * tk, go = gc.data + bh * tq * dv
                    let qh = qc.data + bh * tq * d, dq = gq.data + bh * tq * d
                    for (rows, keys) in blocks {
                        let r0 = rows.lowerBound, pb = p + r0 * tk, db = dp + r0 * tk
                        // dP = dO Vᵀ;  dV += Pᵀ dO
                        Threads.sgemm(transA: false, transB: true, m: rows.count, n: keys, k: dv, alpha: 1,
                                      a: go + r0 * dv, lda: dv, b: vh, ldb: dv, beta: 0, c: db, ldc: tk, threads: 1)
                        Threads.sgemm(transA: true, transB: false, m: keys, n: dv, k: rows.count, alpha: 1,
                                      a: pb, lda: tk, b: go + r0 * dv, ldb: dv, beta: 1, c: dvp, ldc: dv, threads: 1)
                        // dS = P ⊙ (dP - rowsum(dP ⊙ P)) alpha
                        for i in rows {
                            let pr = p + i * tk, dr = dp + i * tk
                            let dot = ck_dot_f32(pr, dr, keys)
                            for j in 0..<keys { dr[j] = pr[j] * (dr[j] - dot) * alpha }
                        }
                        // dQ = dS K;  dK += dSᵀ Q
                        Threads.sgemm(transA: false, transB: false, m: rows.count, n: d, k: keys, alpha: 1,
                                      a: db, lda: tk, b: kh, ldb: d, beta: 0, c: dq + r0 * d, ldc: d, threads: 1)
                        Threads.sgemm(transA: true, transB: false, m: keys, n: d, k: rows.count, alpha: 1,
                                      a: db, lda: tk, b: qh + r0 * d, ldb: d, beta: 1, c: dk, ldc: d, threads: 1)
                    }
                }
            }
            if group > 1 {
                for bh in 0..<(bsz * heads) {
                    let bkv = (bh / heads) * kvHeads + (bh % heads) / group
                    let (sk, dk) = (gkH.data + bh * tk * d, gk.data + bkv * tk * d)
                    for j in 0..<(tk * d) { dk[j] += sk[j] }
                    let (sv, dvp) = (gvH.data + bh * tk * dv, gv.data + bkv * tk * dv)
                    for j in 0..<(tk * dv) { dvp[j] += sv[j] }
                }
            }
            q.receiveGrad(gq, owned: true); k.receiveGrad(gk, owned: true); v.receiveGrad(gv, owned: true)
        }
    }
}

/// Query rows in blocks, each with the number of keys its rows may see: with `causal`, query i
/// sits at position Tk - Tq + i and sees keys j <= that, so a block of rows needs only the keys
/// up to its last row's (the products skip the masked upper triangle, about half of them).
struct RowBlocks: Sequence {
    let tq: Int, tk: Int, causal: Bool
    static let rowsPerBlock = 64

    func keysSeen(by i: Int) -> Int { causal ? Swift.max(0, Swift.min(tk, tk - tq + i + 1)) : tk }

    func makeIterator() -> AnyIterator<(Range<Int>, Int)> {
        var r0 = 0
        return AnyIterator {
            guard r0 < tq else { return nil }
            let rows = r0..<Swift.min(tq, r0 + RowBlocks.rowsPerBlock)
            r0 = rows.upperBound
            return (rows, keysSeen(by: rows.upperBound - 1))
        }
    }
}
