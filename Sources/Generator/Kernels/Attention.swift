// Causal grouped-query attention of T new queries over a layer's KV cache (inference only).
//   q      [T, nHeads, headDim]         queries of positions start ..< start+T (RoPE applied)
//   keys   [ctx, kvHeads, headDim]      the layer's cache, rows 0 ..< start+T filled
//   values [ctx, kvHeads, headDim]
//   out    [T, nHeads, headDim]
// Query head h reads kv head h / (nHeads / kvHeads). Scores and the weighted sum of values are
// two sgemm calls per head (heads split over threads); for one query (decode) the whole group of query heads sharing a kv
// head goes through one sgemm, as its queries are adjacent rows.
// The allocation-free form of Tensor's `attention` op (the reference, used by TrainableLlama),
// checked against it through the whole model by TrainableLlamaTests.

import CBLAS
import CKernels
import Foundation
import Tensor

struct AttentionShape {
    let heads: Int
    let kvHeads: Int
    let headDim: Int
    var group: Int { heads / kvHeads }
}

/// `scores` must hold `group` × (start + 1) floats (used when T = 1). Heads of a prompt (T > 1)
/// are split over `threads`.
func causalAttention(q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                     tokens t: Int, start: Int, shape: AttentionShape, threads: Int,
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
            for r in 0..<rows { ck_softmax_f32(scores + r * length, length) }
            // og[group, hd] = scores · V_g
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(rows), blasint(hd), blasint(length),
                        1, scores, blasint(length), values + g * hd, blasint(kvStride), 0, og, blasint(hd))
        }
        return
    }
    // Prefill: query heads split over threads, each part with its own [t, length] scores and packed
    // K and V (the tensor core's Float32 GEMM, ck_sgemm_packed).
    Threads.parallelFor(shape.heads, costPerItem: t * length * hd, threads: threads) { heads in
        let kCount = ck_sgemm_packed_size(length, hd), vCount = ck_sgemm_packed_size(hd, length)
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: (t * length + kCount + vCount + 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: t * length + kCount + vCount + 16)
        defer { scratch.deallocate() }
        let packedK = scratch, packedV = scratch + kCount               // 64-byte aligned: counts are multiples of 16
        let scores = packedV + vCount
        for h in heads {
            let g = h / shape.group
            // scores[t, length] = Q_h · (scale K_g)ᵀ, then mask j > start + i and softmax each row
            ck_sgemm_pack_rows(keys + g * hd, kvStride, length, hd, scale, packedK)
            ck_sgemm_packed(t, length, hd, q + h * hd, qStride, packedK, nil, scores, length)
            for i in 0..<t {
                let row = scores + i * length
                let visible = start + i + 1
                ck_softmax_f32(row, visible)
                for j in visible..<length { row[j] = 0 }
            }
            // out_h[t, hd] = scores · V_g
            ck_sgemm_pack_cols(values + g * hd, kvStride, hd, length, packedV)
            ck_sgemm_packed(t, hd, length, scores, length, packedV, nil, out + h * hd, qStride)
        }
    }
}
