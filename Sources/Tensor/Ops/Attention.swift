import Foundation

// Scaled dot-product attention, fused per (batch, head): S = scale Q K^T + mask (+ causal),
// P = softmax(S), O = P V. Grouped KV heads: query head h reads KV head h / (H / KVH).
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
        let opQ = GemmOperand(q, batchShape: [bsz, heads])
        let opK = GemmOperand(k, batchShape: [bsz, kvHeads]), opV = GemmOperand(v, batchShape: [bsz, kvHeads])
        let needsGrad = GradMode.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        // Probabilities: all kept for backward, else one [Tq, Tk] scratch per worker.
        let probs = Tensor(zeros: needsGrad ? full : [0])
        let out = Tensor(zeros: [bsz, heads, tq, dv])
        let causalShift = tk - tq
        // (batch, head) pairs are independent in the forward pass: spread them over threads.
        Threads.parallelFor(bsz * heads, costPerItem: tq * tk * (d + dv) * 2) { range in
            let scratch = needsGrad ? probs : Tensor(zeros: [tq, tk])
            for bh in range {
                let b = bh / heads, h = bh % heads, bkv = b * kvHeads + h / group
                let p = scratch.data + (needsGrad ? bh * tq * tk : 0)
                gemm1(opQ, bh, transA: false, opK, bkv, transB: true, into: p, ldc: tk, alpha: alpha, threads: 1)
                for i in 0..<tq {
                    let row = p + i * tk
                    if let m = maskView {
                        let base = m.storage.base + m.offset + b * m.strides[0] + h * m.strides[1] + i * m.strides[2]
                        let sj = m.strides[3]
                        for j in 0..<tk { row[j] += base[j * sj] }
                    }
                    if causal {
                        let last = causalShift + i
                        if last + 1 < tk { for j in (last + 1)..<tk { row[j] = -.infinity } }
                    }
                    softmaxRow(row, row, tk)
                }
                let po = GemmOperand(probsView(p, tq, tk), batchShape: [])
                gemm1(po, 0, transA: false, opV, bkv, transB: false, into: out.data + bh * tq * dv, ldc: dv, threads: 1)
            }
        }
        guard needsGrad else { return out }
        return record(out, inputs: [q, k, v]) { g in
            let gq = Tensor(zeros: q.shape), gk = Tensor(zeros: k.shape), gv = Tensor(zeros: v.shape)
            let opG = GemmOperand(g, batchShape: [bsz, heads])
            let dp = Tensor(zeros: [tq, tk])
            for b in 0..<bsz {
                for h in 0..<heads {
                    let bh = b * heads + h, bkv = b * kvHeads + h / group
                    let p = probs.data + bh * tq * tk
                    let opP = GemmOperand(probsView(p, tq, tk), batchShape: [])
                    gemm1(opG, bh, transA: false, opV, bkv, transB: true, into: dp.data, ldc: tk)
                    gemm1(opP, 0, transA: true, opG, bh, transB: false, into: gv.data + bkv * tk * dv, ldc: dv, beta: 1)
                    for i in 0..<tq {
                        let pr = p + i * tk, dr = dp.data + i * tk
                        var dot: Float = 0
                        for j in 0..<tk { dot += pr[j] * dr[j] }
                        for j in 0..<tk { dr[j] = pr[j] * (dr[j] - dot) * alpha }
                    }
                    let opDS = GemmOperand(dp, batchShape: [])
                    gemm1(opDS, 0, transA: false, opK, bkv, transB: false, into: gq.data + bh * tq * d, ldc: d)
                    gemm1(opDS, 0, transA: true, opQ, bh, transB: false, into: gk.data + bkv * tk * d, ldc: d, beta: 1)
                }
            }
            q.receiveGrad(gq, owned: true); k.receiveGrad(gk, owned: true); v.receiveGrad(gv, owned: true)
        }
    }

    /// A [rows, cols] tensor over raw memory inside `probs` (kept alive by the caller).
    private static func probsView(_ p: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int) -> Tensor {
        Tensor(storage: TensorStorage(borrowing: p, count: rows * cols, owner: BorrowedMemory.shared), shape: [rows, cols])
    }
}

/// Owner token for short-lived views over memory that an enclosing tensor keeps alive.
final class BorrowedMemory: Sendable {
    static let shared = BorrowedMemory()
}
