// Causal grouped-query attention of T new queries over a layer's KV cache (inference only).
//   q      [T, nHeads, headDim]         queries of positions start ..< start+T (RoPE applied)
//   keys   [ctx, kvHeads, headDim]      the layer's cache, rows 0 ..< start+T filled
//   values [ctx, kvHeads, headDim]
//   out    [T, nHeads, headDim]
// Query head h reads kv head h / (nHeads / kvHeads). Scores and the weighted sum of values are
// two sgemm calls per head; for one query (decode) the whole group of query heads sharing a kv
// head goes through one sgemm, as its queries are adjacent rows.
// Duplicates Tensor's attention op (with KV cache) for the allocation-free decode path.

import CBLAS
import Foundation

struct AttentionShape {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    var group: Int { heads / kvHeads }
}

/// `scores` must hold max(T, group) × (start + T) floats.
func causalAttention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                     tokens t: Int, start: Int, shape: AttentionShape,
                     scores: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let hd = shape.headDim, length = start + t
    let qStride = shape.heads * hd, kvStride = shape.kvHeads * hd
    let scale = 1 / Float(hd).squareRoot()
    if t == 1 {
        // Decode: rows of the group's queries are contiguous ([group, hd]); no mask needed.
        for g in 0..<shape.kvHeads {
            let rows = shape.group
            let qg = q + g * rows * hd, og = out + g * rows * hd
            // scores[group, length] = qg · K_gᵀ · scale
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(rows), blasint(length), blasint(hd),
                        scale, qg, blasint(hd), keys + g * hd, blasint(kvStride), 0, scores, blasint(length))
            for r in 0..<rows { softmaxInPlace(scores + r * length, count: length) }
            // og[group, hd] = scores · V_g
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(hd), blasint(length),
                        1, scores, blasint(length), values + g * hd, blasint(kvStride), 0, og, blasint(hd))
        }
        return
    }
    for h in 0..<shape.heads {
        let g = h / shape.group
        // scores[t, length] = Q_h · K_gᵀ · scale, then mask j > start + i and softmax each row
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(t), blasint(length), blasint(hd),
                    scale, q + h * hd, blasint(qStride), keys + g * hd, blasint(kvStride), 0, scores, blasint(length))
        for i in 0..<t {
            let row = scores + i * length
            let visible = start + i + 1
            softmaxInPlace(row, count: visible)
            for j in visible..<length { row[j] = 0 }
        }
        // out_h[t, hd] = scores · V_g
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(t), blasint(hd), blasint(length),
                    1, scores, blasint(length), values + g * hd, blasint(kvStride), 0, out + h * hd, blasint(qStride))
    }
}

/// Numerically stable softmax of `count` values in place.
func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count: Int) {
    guard count > 0 else { return }
    var m = x[0]
    for i in 1..<count where x[i] > m { m = x[i] }
    var sum: Float = 0
    for i in 0..<count {
        let e = expf(x[i] - m)
        x[i] = e
        sum += e
    }
    let inv = 1 / sum
    for i in 0..<count { x[i] *= inv }
}
