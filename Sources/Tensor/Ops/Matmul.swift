import CBLAS

// Every matrix product goes through cblas_sgemm (cblas_sgemv for a single row). Operands may be
// strided views: a matrix whose last two dims are row-major or column-major in memory (e.g. a
// transpose, or a head slice of [B, T, H, D] permuted to [B, H, T, D]) is handed to BLAS as is,
// with the transpose flag and leading dimension; anything else is made dense first.

/// One operand of a (batched) product: a base pointer, per-batch element offsets, the logical
/// matrix size [rows, cols], and how BLAS should read it.
struct GemmOperand {
    let base: UnsafeMutablePointer<Float>
    let batchOffsets: [Int]
    let rows: Int, cols: Int
    let transposed: Bool   // memory holds the [cols, rows] row-major matrix
    let ld: Int
    let keepAlive: Tensor

    /// `t` has shape [batch..., rows, cols]; `batchShape` is the batch dims to iterate (t's batch
    /// dims must equal them, or t must be 2-D and is reused for every batch element).
    init(_ t: Tensor, batchShape: [Int]) {
        var v = t
        let r = v.rank
        let s0 = v.strides[r - 2], s1 = v.strides[r - 1]
        let rows = v.shape[r - 2], cols = v.shape[r - 1]
        let rowMajor = (s1 == 1 || cols == 1) && (s0 >= cols || rows == 1)
        let colMajor = (s0 == 1 || rows == 1) && (s1 >= rows || cols == 1)
        if !rowMajor && !colMajor { v = t.contiguousData() }
        if rowMajor {
            transposed = false; ld = Swift.max(s0, cols, 1)
        } else if colMajor {
            transposed = true; ld = Swift.max(s1, rows, 1)
        } else {
            transposed = false; ld = Swift.max(cols, 1)
        }
        self.rows = rows; self.cols = cols
        base = v.storage.base
        keepAlive = v
        if v.rank == 2 {
            batchOffsets = [Int](repeating: v.offset, count: Tensor.elementCount(batchShape))
        } else {
            var offs: [Int] = []
            offs.reserveCapacity(Tensor.elementCount(batchShape))
            let bStrides = Array(v.strides[..<(r - 2)])
            Tensor.forEachRow(shape: batchShape + [1], strides: [bStrides + [0]], offsets: [v.offset]) { o, _ in
                offs.append(o[0])
            }
            batchOffsets = offs
        }
    }

}

extension Tensor {
    /// C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for every batch element, into dense `c`
    /// ([batch, M, N]). `transA`/`transB` ask for the operand's logical transpose.
    static func gemm(_ a: GemmOperand, transA: Bool, _ b: GemmOperand, transB: Bool,
                     into c: UnsafeMutablePointer<Float>, alpha: Float = 1, beta: Float = 0) {
        let m = transA ? a.cols : a.rows, n = transB ? b.rows : b.cols
        for i in 0..<a.batchOffsets.count {
            gemm1(a, i, transA: transA, b, i, transB: transB, into: c + i * m * n, ldc: n, alpha: alpha, beta: beta)
        }
    }

    /// One product C = alpha * op(A[ia]) @ op(B[ib]) + beta * C, C row-major with leading dim `ldc`.
    /// `threads`: how many threads the product may be split over (1 inside work that is already parallel).
    static func gemm1(_ a: GemmOperand, _ ia: Int, transA: Bool, _ b: GemmOperand, _ ib: Int, transB: Bool,
                      into pc: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0,
                      threads: Int = Threads.count) {
        _ = Threads.blasConfigured
        let m = transA ? a.cols : a.rows, k = transA ? a.rows : a.cols
        let n = transB ? b.rows : b.cols
        let ta = (a.transposed != transA) ? CblasTrans : CblasNoTrans
        let tb = (b.transposed != transB) ? CblasTrans : CblasNoTrans
        let pa = a.base + a.batchOffsets[ia], pb = b.base + b.batchOffsets[ib]
        if m == 1 && ldc == n {
            // One row: c^T = op(B)^T a^T, a matrix-vector product on B's memory matrix.
            let incA = Int32(ta == CblasNoTrans ? 1 : a.ld)
            let memRows = Int32(b.transposed ? b.cols : b.rows), memCols = Int32(b.transposed ? b.rows : b.cols)
            cblas_sgemv(CblasRowMajor, tb == CblasTrans ? CblasNoTrans : CblasTrans,
                        memRows, memCols, alpha, pb, Int32(b.ld), pa, incA, beta, pc, 1)
        } else {
            Threads.sgemm(transA: ta == CblasTrans, transB: tb == CblasTrans, m: m, n: n, k: k, alpha: alpha,
                          a: pa, lda: a.ld, b: pb, ldb: b.ld, beta: beta, c: pc, ldc: ldc, threads: threads)
        }
    }

    /// Matrix product with batching: [..., M, K] x [K, N] (a Linear layer: one sgemm over all rows),
    /// or [batch..., M, K] x [batch..., K, N] with equal batch dims (one sgemm per batch element).
    public func matmul(_ other: Tensor) throws -> Tensor {
        let a = self, b = other
        guard a.rank >= 2, b.rank >= 2, a.shape[a.rank - 1] == b.shape[b.rank - 2] else {
            throw TensorError.shapeMismatch("matmul: \(a.shape) x \(b.shape)")
        }
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        if b.rank == 2 {
            // Fold all leading dims of a into rows when they can be: one big product.
            let lead = Array(a.shape[..<(a.rank - 1)])
            let rows = lead.reduce(1, *)
            let a2 = a.rank == 2 ? a : (a.canFlattenLeading() ? Tensor(storage: a.storage, shape: [rows, k], strides: [a.strides[a.rank - 2], a.strides[a.rank - 1]], offset: a.offset)
                                                             : a.contiguousData().flatView([rows, k]))
            let out = Tensor(zeros: lead + [n])
            let opA = GemmOperand(a2, batchShape: []), opB = GemmOperand(b, batchShape: [])
            Tensor.gemm(opA, transA: false, opB, transB: false, into: out.data)
            return Tensor.record(out, inputs: [a, b]) { g in
                let g2 = GemmOperand(Tensor(storage: g.storage, shape: [rows, n], offset: g.offset), batchShape: [])
                if a.requiresGrad {
                    let ga = Tensor(zeros: a.shape)            // dA = dC @ B^T
                    Tensor.gemm(g2, transA: false, opB, transB: true, into: ga.data)
                    a.receiveGrad(ga, owned: true)
                }
                if b.requiresGrad {
                    let gb = Tensor(zeros: b.shape)            // dB = A^T @ dC
                    Tensor.gemm(opA, transA: true, g2, transB: false, into: gb.data)
                    b.receiveGrad(gb, owned: true)
                }
            }
        }
        let batchShape = Array(a.shape[..<(a.rank - 2)])
        guard a.rank == b.rank, batchShape == Array(b.shape[..<(b.rank - 2)]) else {
            throw TensorError.shapeMismatch("matmul: batch dims of \(a.shape) and \(b.shape) differ")
        }
        let out = Tensor(zeros: batchShape + [m, n])
        let opA = GemmOperand(a, batchShape: batchShape), opB = GemmOperand(b, batchShape: batchShape)
        Tensor.gemm(opA, transA: false, opB, transB: false, into: out.data)
        return Tensor.record(out, inputs: [a, b]) { g in
            let gOp = GemmOperand(g, batchShape: batchShape)
            if a.requiresGrad {
                let ga = Tensor(zeros: batchShape + [m, k])
                Tensor.gemm(gOp, transA: false, opB, transB: true, into: ga.data)
                a.receiveGrad(ga, owned: true)
            }
            if b.requiresGrad {
                let gb = Tensor(zeros: batchShape + [k, n])
                Tensor.gemm(opA, transA: true, gOp, transB: false, into: gb.data)
                b.receiveGrad(gb, owned: true)
            }
        }
    }

    /// True when dims [0, rank-1) can be merged into one dimension without a copy.
    func canFlattenLeading() -> Bool {
        if rank <= 2 { return true }
        for d in 0..<(rank - 2) where strides[d] != strides[d + 1] * shape[d + 1] && shape[d] != 1 {
            return false
        }
        return true
    }

    /// A view of a dense tensor with another shape of the same count.
    func flatView(_ newShape: [Int]) -> Tensor {
        Tensor(storage: storage, shape: newShape, offset: offset)
    }
}

extension Tensor {
    /// y = x W^T + b, the Linear layer's op (PyTorch layout). x: [..., in], weight: [out, in],
    /// bias: [out]. All rows of x go through one sgemm (sgemv for a single row).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard weight.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == weight.shape[1] else {
            throw TensorError.shapeMismatch("linear: input \(x.shape) with weight \(weight.shape)\(weight.name.map { " (\($0))" } ?? "")")
        }
        let outF = weight.shape[0], inF = weight.shape[1]
        if let bias, bias.shape != [outF] {
            throw TensorError.shapeMismatch("linear: bias \(bias.shape) for weight \(weight.shape)\(bias.name.map { " (\($0))" } ?? "")")
        }
        let rows = x.count / Swift.max(inF, 1)
        let x2: Tensor
        if x.rank == 2 { x2 = x } else if x.canFlattenLeading() {
            x2 = Tensor(storage: x.storage, shape: [rows, inF], strides: [x.rank >= 2 ? x.strides[x.rank - 2] : inF, x.strides[x.rank - 1]], offset: x.offset)
        } else { x2 = x.contiguousData().flatView([rows, inF]) }
        let out = Tensor(zeros: Array(x.shape.dropLast()) + [outF])
        let opX = GemmOperand(x2.rank == 1 ? x2.flatView([1, inF]) : x2, batchShape: [])
        let opW = GemmOperand(weight, batchShape: [])
        if rows > 0 { gemm(opX, transA: false, opW, transB: true, into: out.data) }
        if let bias {
            let b = bias.contiguousData()
            let po = out.data, pb = b.data
            Threads.parallelFor(rows, costPerItem: outF) { r in
                for row in r { for j in 0..<outF { po[row * outF + j] += pb[j] } }
            }
        }
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return record(out, inputs: inputs) { g in
            guard rows > 0 else { return }
            let opG = GemmOperand(g.flatView([rows, outF]), batchShape: [])
            if x.requiresGrad {
                let gx = Tensor(zeros: x.shape)                 // dX = dY W
                gemm(opG, transA: false, opW, transB: false, into: gx.data)
                x.receiveGrad(gx, owned: true)
            }
            if weight.requiresGrad {
                let gw = Tensor(zeros: [outF, inF])             // dW = dY^T X
                gemm(opG, transA: true, opX, transB: false, into: gw.data)
                weight.receiveGrad(gw, owned: true)
            }
            if let bias, bias.requiresGrad {
                let gb = Tensor(zeros: [outF])
                for row in 0..<rows { for j in 0..<outF { gb.data[j] += g.data[row * outF + j] } }
                bias.receiveGrad(gb, owned: true)
            }
        }
    }
}
