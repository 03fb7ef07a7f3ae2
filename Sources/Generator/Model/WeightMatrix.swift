// A weight matrix W [rows, cols] as the model multiplies it: either kept in its GGUF blocks
// (QuantizedMatrix: multiplied block-wise, never dequantized as a whole) or dense Float32 (from
// safetensors F32/F16/BF16).
//   apply(x [n, cols]) -> y [n, rows]   y = x Wᵀ   (one token: matvec; a prompt: matmul)

import CBLAS
import Tensor

enum WeightMatrix: @unchecked Sendable {
    case quantized(QuantizedMatrix)
    /// Contiguous [rows, cols]; the tensor keeps the memory alive.
    case dense(Tensor, name: String)

    var rows: Int {
        switch self {
        case .quantized(let m): return m.rows
        case .dense(let t, _): return t.shape[0]
        }
    }

    var cols: Int {
        switch self {
        case .quantized(let m): return m.cols
        case .dense(let t, _): return t.shape[1]
        }
    }

    var name: String {
        switch self {
        case .quantized(let m): return m.name
        case .dense(_, let name): return name
        }
    }

    /// The same matrix for the tensor core's frozen-weight ops (training: LoRA / QLoRA bases).
    var frozen: FrozenMatrix {
        switch self {
        case .quantized(let m): return .quantized(m)
        case .dense(let t, _): return .dense(t)
        }
    }

    /// y[n, rows] = x[n, cols] Wᵀ.
    func apply(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, threads: Int) {
        switch self {
        case .quantized(let m):
            if n == 1 { m.matvec(x, into: y, threads: threads) } else { m.matmul(x, n: n, into: y, threads: threads) }
        case .dense(let t, _):
            let rows = t.shape[0], cols = t.shape[1]
            if n == 1 {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(rows), blasint(cols), 1, t.data, blasint(cols), x, 1, 0, y, 1)
            } else {
                Threads.sgemm(transA: false, transB: true, m: n, n: rows, k: cols, alpha: 1, a: x, lda: cols,
                              b: t.data, ldb: cols, beta: 0, c: y, ldc: rows, threads: threads)
            }
        }
    }

    /// Row i (an embedding lookup) into `dst` [cols].
    func row(_ i: Int, into dst: UnsafeMutablePointer<Float>) throws {
        switch self {
        case .quantized(let m): try m.row(i, into: dst)
        case .dense(let t, let name):
            guard i >= 0, i < t.shape[0] else {
                throw GeneratorError.invalidOptions("token id \(i) is out of range for '\(name)' (\(t.shape[0]) rows)")
            }
            dst.update(from: t.data + i * t.shape[1], count: t.shape[1])
        }
    }
}
