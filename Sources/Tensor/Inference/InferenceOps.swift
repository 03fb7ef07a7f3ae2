import CBLAS
import CKernels
import Dispatch

// Inference-only transformer ops on dense row-major memory, without autograd and without
// allocating: the caller brings every buffer (see InferenceWorkspace). They compute what the
// autograd ops compute (Tensor.linear + gelu, Tensor.attention, layerNorm of a sum), in fewer passes:
// a bias rides along with the GEMM or the next pass, GELU runs right after its GEMM, the residual
// add and LayerNorm are one pass, and attention touches only a sequence's real tokens.

public enum Inference {
    public enum Activation: Sendable { case none, gelu }

    /// y[rows, out] = act(x[rows, in] W^T + bias), W: [out, in] (PyTorch layout). `threads` > 1
    /// splits the GEMM (use 1 inside work that is already spread over threads).
    /// Rows of y are `ldy` floats apart (default `outFeatures`; larger to fill columns of a wider
    /// buffer, e.g. Q, K and V side by side).
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, weight: UnsafePointer<Float>, inFeatures: Int,
                              outFeatures: Int, bias: UnsafePointer<Float>?, activation: Activation = .none,
                              into y: UnsafeMutablePointer<Float>, ldy: Int? = nil, threads: Int = 1) {
        guard rows > 0, outFeatures > 0 else { return }
        let ldc = ldy ?? outFeatures
        var beta: Float = 0
        if let bias, activation == .none {   // C starts as the bias rows; the GEMM adds onto them
            for r in 0..<rows { (y + r * ldc).update(from: bias, count: outFeatures) }
            beta = 1
        }
        Threads.sgemm(transA: false, transB: true, m: rows, n: outFeatures, k: inFeatures, alpha: 1,
                      a: x, lda: inFeatures, b: weight, ldb: inFeatures, beta: beta, c: y, ldc: ldc,
                      threads: threads)
        guard activation == .gelu else { return }
        if ldc == outFeatures {
            ck_bias_gelu_f32(y, bias, rows, outFeatures)
        } else {
            for r in 0..<rows { ck_bias_gelu_f32(y + r * ldc, bias, 1, outFeatures) }
        }
    }

    /// y[rows, out] = act(x[rows, in] W^T + bias) with W packed beforehand (see PackedMatrix).
    /// `threads` > 1 splits the rows.
    public static func linear(_ x: UnsafePointer<Float>, rows: Int, packed w: PackedMatrix, bias: UnsafePointer<Float>?,
                              activation: Activation = .none, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
                              threads: Int = 1) {
        guard rows > 0, w.outFeatures > 0 else { return }
        let ldc = ldy ?? w.outFeatures, k = w.inFeatures, n = w.outFeatures
        func run(_ r: Range<Int>) {
            w.multiply(x + r.lowerBound * k, rows: r.count, bias: bias, gelu: activation == .gelu,
                       into: y + r.lowerBound * ldc, ldy: ldc)
        }
        let parts = min(threads, rows / 48, 2 * rows * n * k >> 21)   // 48+ rows and ~2 MFLOP per part
        guard parts > 1 else { run(0..<rows); return }
        let per = (rows + parts - 1) / parts
        withoutActuallyEscaping(run) { run in
            let box = UncheckedSendable(run)   // each part writes its own rows of y
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let r = part * per..<min(rows, part * per + per)
                if !r.isEmpty { box.value(r) }
            }
        }
    }

    /// Floats `attention` needs in `scratch` for a sequence of `length` tokens and heads of `headDim`.
    public static func attentionScratchCount(length: Int, headDim: Int) -> Int {
        aligned(length * length) + aligned(packedKVCount(length: length, headDim: headDim)) + length
    }

    /// Floats that K and V of one head take packed, in the larger of the two layouts (Float32
    /// panels, or bf16x3 tiles at two bytes a value).
    private static func packedKVCount(length: Int, headDim: Int) -> Int {
        let float32 = ck_sgemm_packed_size(length, headDim) + ck_sgemm_packed_size(headDim, length)
        let bf16x3 = (ck_sgemm_bf16x3_packed_size(length, headDim) + ck_sgemm_bf16x3_packed_size(headDim, length) + 1) / 2
        return Swift.max(float32, bf16x3)
    }

    /// `count` rounded up to whole 64-byte lines (packed operands must start 64-byte aligned).
    private static func aligned(_ count: Int) -> Int { (count + 15) & ~15 }

    /// Multi-head self-attention of ONE sequence of `length` tokens over packed projections
    /// qkv: [length, 3 H D] (Q | K | V, head h at columns h D of each), without masking: every
    /// token is real. Writes context [length, H D] (row stride `heads * headDim`). `scratch` must
    /// hold `attentionScratchCount(length:headDim:)` floats and be 64-byte aligned.
    /// Both products run on AMX tiles (bf16x3) where the CPU has them, else on ck_sgemm_packed.
    public static func attention(qkv: UnsafePointer<Float>, length n: Int, heads: Int, headDim d: Int,
                                 into context: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                 scale: Float? = nil) {
        guard n > 0 else { return }
        let width = heads * d, ld = 3 * width
        let alpha = scale ?? 1 / Float(d).squareRoot()
        let tiles = ck_gemm_simd_level() >= 3
        let scores = scratch                                               // [T, T]
        let packed = scores + aligned(n * n)                               // alpha K^T [D, T] and V [T, D], packed (64-byte aligned)
        let inverseSums = packed + aligned(packedKVCount(length: n, headDim: d))   // [T]: 1 / sum of each row of exp(S)
        for h in 0..<heads {
            let q = qkv + h * d, k = qkv + width + h * d, v = qkv + 2 * width + h * d
            if tiles {
                let packedK = UnsafeMutableRawPointer(packed).assumingMemoryBound(to: UInt16.self)
                let packedV = packedK + ck_sgemm_bf16x3_packed_size(n, d)   // a multiple of 512: stays aligned
                // S[n, n] = Q (alpha K)^T; P = softmax(S) row by row, its 1 / sum left to P V
                ck_sgemm_bf16x3_pack_rows(k, ld, n, d, alpha, packedK)
                ck_sgemm_bf16x3(n, n, d, q, ld, packedK, nil, nil, 0, scores, n)
                for i in 0..<n { inverseSums[i] = ck_softmax_unnormalized_f32(scores + i * n, n) }
                // O[n, D] = P V, into this head's columns
                ck_sgemm_bf16x3_pack_cols(v, ld, d, n, packedV)
                ck_sgemm_bf16x3(n, d, n, scores, n, packedV, nil, inverseSums, 0, context + h * d, width)
            } else {
                let packedK = packed, packedV = packed + ck_sgemm_packed_size(n, d)
                ck_sgemm_pack_rows(k, ld, n, d, alpha, packedK)
                ck_sgemm_packed(n, n, d, q, ld, packedK, nil, scores, n)
                for i in 0..<n { inverseSums[i] = ck_softmax_unnormalized_f32(scores + i * n, n) }
                ck_sgemm_pack_cols(v, ld, d, n, packedV)
                ck_sgemm_packed_row_scaled(n, d, n, scores, n, packedV, inverseSums, context + h * d, width)
            }
        }
    }

    /// x = LayerNorm(x + y + yBias) * weight + bias, row by row in place. x, y: [rows, cols].
    /// y and yBias may be nil (plain LayerNorm of x).
    public static func addLayerNorm(_ x: UnsafeMutablePointer<Float>, adding y: UnsafePointer<Float>?,
                                    yBias: UnsafePointer<Float>?, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                    eps: Float, rows: Int, cols: Int) {
        ck_add_layernorm_f32(x, y, yBias, weight, bias, eps, rows, cols)
    }

    /// x = gelu(x + bias) in place (exact erf form); bias [cols] may be nil.
    public static func gelu(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, rows: Int, cols: Int) {
        ck_bias_gelu_f32(x, bias, rows, cols)
    }
}
