import CKernels
import Foundation

// A linear layer whose weight is not trained (the base of LoRA / QLoRA): y = x Wᵀ, and backward
// sends only dx = dy W. W stays as it was loaded: GGUF blocks are multiplied a tile of rows at a
// time (dequantized into a small scratch, never as a whole), a dense tensor directly.

/// How the products with a frozen weight are computed: in Float32, or with both operands rounded to
/// bf16 and Float32 sums (QLoRA's usual compute dtype; `rag finetune --bf16`): the products about
/// twice as fast where the CPU has AVX512-BF16 (a training step 1.3–1.5×), Float32 elsewhere
/// (`bfloat16IsAvailable`).
public enum FrozenPrecision: Sendable {
    case float32, bfloat16

    /// Whether this CPU computes `.bfloat16` (AVX512-BF16); without it `.bfloat16` runs as `.float32`.
    public static let bfloat16IsAvailable = ck_bf16_gemm_available() == 1
}

/// A weight matrix W [rows, cols] that is read, never written: quantized blocks or dense Float32.
public enum FrozenMatrix: @unchecked Sendable {
    case quantized(QuantizedMatrix)
    /// Contiguous [rows, cols].
    case dense(Tensor)

    public var rows: Int {
        switch self {
        case .quantized(let m): return m.rows
        case .dense(let t): return t.shape[0]
        }
    }

    public var cols: Int {
        switch self {
        case .quantized(let m): return m.cols
        case .dense(let t): return t.shape[1]
        }
    }

    public var name: String {
        switch self {
        case .quantized(let m): return m.name
        case .dense(let t): return t.name ?? "weight"
        }
    }

    /// Rows of W dequantized at once for a bf16 product: whole projection matrices (up to 2 M
    /// values, 8 MB), the vocabulary of a head in slices of that size.
    private var bf16TileRows: Int { Swift.max(16, Swift.min(rows, (1 << 21) / Swift.max(cols, 1))) }

    /// Y[n, rows] = X[n, cols] Wᵀ.
    public func multiply(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>,
                         precision: FrozenPrecision = .float32) {
        guard n > 0 else { return }
        if precision == .bfloat16, FrozenPrecision.bfloat16IsAvailable {
            forEachRowTile(tileRows: bf16TileRows) { range, w in
                // Y[:, range] = X W[range]ᵀ
                Threads.sgemmBF16(transB: true, m: n, n: range.count, k: cols, a: x, lda: cols, b: w, ldb: cols,
                                  accumulate: false, c: y + range.lowerBound, ldc: rows)
            }
            return
        }
        switch self {
        case .quantized(let m): m.matmul(x, n: n, into: y)
        case .dense(let t):
            Threads.sgemm(transA: false, transB: true, m: n, n: rows, k: cols, alpha: 1, a: x, lda: cols,
                          b: t.data, ldb: cols, beta: 0, c: y, ldc: rows)
        }
    }

    /// DX[n, cols] += DY[n, rows] W (the backward of `multiply`).
    public func multiplyTransposedAdding(_ dy: UnsafePointer<Float>, n: Int, into dx: UnsafeMutablePointer<Float>,
                                         precision: FrozenPrecision = .float32) {
        guard n > 0 else { return }
        if precision == .bfloat16, FrozenPrecision.bfloat16IsAvailable {
            forEachRowTile(tileRows: bf16TileRows) { range, w in
                // DX += DY[:, range] W[range]
                Threads.sgemmBF16(transB: false, m: n, n: cols, k: range.count, a: dy + range.lowerBound, lda: rows,
                                  b: w, ldb: cols, accumulate: true, c: dx, ldc: cols)
            }
            return
        }
        if n >= 16, ck_gemm_simd_level() >= 3 {
            // W dense [rows, cols] as one tile: the stored tensor, or its quantized rows decoded once.
            forEachRowTile(tileRows: rows) { _, w in multiplyTransposedAddingOnTiles(dy, n: n, w: w, into: dx) }
            return
        }
        forEachRowTile(tileRows: 256) { range, tile in
            // DX += DY[:, range] W[range]
            Threads.sgemm(transA: false, transB: false, m: n, n: cols, k: range.count, alpha: 1, a: dy + range.lowerBound,
                          lda: rows, b: tile, ldb: cols, beta: 1, c: dx, ldc: cols)
        }
    }

    /// The same product where the CPU has AMX tiles, from W dense [rows, cols]: W is packed as the
    /// right operand of the tensor core's bf16x3 GEMM (the kernel the forward pass uses; about 16
    /// bits of each operand), one panel of its columns per thread, and DY times each panel lands in
    /// its columns of DX.
    private func multiplyTransposedAddingOnTiles(_ dy: UnsafePointer<Float>, n: Int, w: UnsafePointer<Float>,
                                                 into dx: UnsafeMutablePointer<Float>) {
        let (rows, cols) = (self.rows, self.cols)
        let product = UnsafeMutablePointer<Float>.allocate(capacity: n * cols)   // [n, cols]
        defer { product.deallocate() }
        let panels = Swift.max(1, Swift.min(Threads.count, cols / 64))
        let width = ((cols + panels - 1) / panels + 15) / 16 * 16
        Threads.parallelFor(panels, costPerItem: 2 * n * rows * width) { part in
            for p in part {
                let j0 = p * width, nj = Swift.min(cols, j0 + width) - j0
                guard nj > 0 else { continue }
                // B = W[:, j0 ..< j0 + nj] [rows, nj], stored row-major with stride cols
                let packed = UnsafeMutablePointer<UInt16>.allocate(capacity: Swift.max(ck_sgemm_bf16x3_packed_size(nj, rows), 1))
                defer { packed.deallocate() }
                ck_sgemm_bf16x3_pack_cols(w + j0, cols, nj, rows, packed)
                ck_sgemm_bf16x3(n, nj, rows, dy, rows, packed, nil, nil, 0, product + j0, cols)
            }
        }
        Threads.parallelFor(n, costPerItem: cols) { part in
            for i in part {
                let src = product + i * cols, dst = dx + i * cols
                for j in 0..<cols { dst[j] += src[j] }
            }
        }
    }

    /// Calls `body` with consecutive tiles of at most `tileRows` rows of W as dense Float32
    /// ([count, cols], row-major): quantized rows dequantized into one reused scratch tile (the
    /// rows split over threads), dense rows in place.
    public func forEachRowTile(tileRows: Int, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        let step = Swift.max(1, Swift.min(tileRows, rows))
        switch self {
        case .dense(let t):
            for r0 in stride(from: 0, to: rows, by: step) {
                body(r0..<Swift.min(rows, r0 + step), t.data + r0 * cols)
            }
        case .quantized(let m):
            let tile = UnsafeMutablePointer<Float>.allocate(capacity: step * cols)
            defer { tile.deallocate() }
            for r0 in stride(from: 0, to: rows, by: step) {
                let range = r0..<Swift.min(rows, r0 + step)
                Threads.parallelFor(range.count, costPerItem: 4 * cols) { part in
                    for r in part { try? m.row(range.lowerBound + r, into: tile + r * cols) }   // r is in range
                }
                body(range, tile)
            }
        }
    }
}

extension Tensor {
    /// y = x Wᵀ for a frozen W [out, in]: x [..., in] -> [..., out]. Only x receives a gradient.
    /// Both products (forward and dx) in `precision`.
    public static func linear(_ x: Tensor, frozen w: FrozenMatrix, precision: FrozenPrecision = .float32) throws -> Tensor {
        let inF = w.cols, outF = w.rows
        guard x.rank >= 1, x.shape[x.rank - 1] == inF else {
            throw TensorError.shapeMismatch("linear: input \(x.shape) with weight [\(outF), \(inF)] (\(w.name))")
        }
        let xc = x.contiguousData()
        let rows = x.count / Swift.max(inF, 1)
        let out = Tensor(zeros: Array(x.shape.dropLast()) + [outF])
        w.multiply(xc.data, n: rows, into: out.data, precision: precision)
        return record(out, inputs: [x]) { g in
            let gc = g.contiguousData()
            let gx = Tensor(zeros: x.shape)                   // dX = dY W
            w.multiplyTransposedAdding(gc.data, n: rows, into: gx.data, precision: precision)
            x.receiveGrad(gx, owned: true)
        }
    }
}
