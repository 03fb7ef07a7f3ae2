import CBLAS
import CKernels

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

    /// Multi-head self-attention of ONE sequence of `length` tokens over packed projections
    /// qkv: [length, 3 H D] (Q | K | V, head h at columns h D of each), without masking: every
    /// token is real. Writes context [length, H D] (row stride `heads * headDim`). `scores` must
    /// hold length * length floats.
    public static func attention(qkv: UnsafePointer<Float>, length n: Int, heads: Int, headDim d: Int,
                                 into context: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                                 scale: Float? = nil) {
        guard n > 0 else { return }
        _ = Threads.blasConfigured
        let width = heads * d, ld = Int32(3 * width)
        let alpha = scale ?? 1 / Float(d).squareRoot()
        for h in 0..<heads {
            let q = qkv + h * d, k = qkv + width + h * d, v = qkv + 2 * width + h * d
            // S[n, n] = scale Q K^T
            cblas_sgemm_rowmajor(false, true, n, n, d, alpha, q, ld, k, ld, 0, scores, Int32(n))
            for i in 0..<n { ck_softmax_f32(scores + i * n, n) }
            // O[n, D] = P V, into this head's columns
            cblas_sgemm_rowmajor(false, false, n, d, n, 1, scores, Int32(n), v, ld, 0, context + h * d, Int32(width))
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

/// One single-threaded row-major sgemm (the caller's thread does the whole product).
@inline(__always)
private func cblas_sgemm_rowmajor(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                                  _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32,
                                  _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, lda, b, ldb, beta, c, ldc)
}
