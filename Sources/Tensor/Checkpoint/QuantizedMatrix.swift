// A weight matrix [rows, cols] kept in its GGUF blocks (borrowed from the file mapping), used
// without dequantizing it as a whole:
//   matvec  y = W x          Q8_0 / Q4_1 straight from the blocks (CKernels), other types one
//                            dequantized tile of rows at a time + sgemv; rows split over threads.
//   matmul  Y = X Wᵀ         batched (prefill): a tile of rows dequantized and packed for the tensor
//                            core's GEMM (AMX tiles in bf16x3 where the CPU has them, else Float32).
//   row(i)                   one dequantized row (embedding lookup).
// Activations stay Float32, so results equal dequantize-then-BLAS up to summation order (and, on
// AMX, the bf16x3 split: about 16 bits of each operand).

import CBLAS
import CKernels

public final class QuantizedMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    /// Bytes of one row of blocks.
    public let rowBytes: Int
    /// The blocks, `rows` rows of `rowBytes` bytes each, as in a GGUF file (64-byte aligned when
    /// made from bytes; at the file's tensor offset when mapped). Read-only, and valid as long as
    /// this matrix is alive: a kernel that keeps the address must keep a reference to the matrix.
    public let blocks: UnsafeRawPointer
    /// Keeps the memory of `blocks` alive (the mapped file).
    let owner: AnyObject

    /// `type` must be decodable and `cols` a multiple of its block size (GGUFFile checks both).
    init(name: String, type: GGMLType, rows: Int, cols: Int, blocks: UnsafeRawPointer, owner: AnyObject) {
        self.name = name
        self.type = type
        self.rows = rows
        self.cols = cols
        self.rowBytes = cols / (type.blockSize ?? 1) * (type.blockBytes ?? 4)
        self.blocks = blocks
        self.owner = owner
    }

    /// A matrix over a copy of `bytes`: rows × (cols / block size) blocks of `type`, row after
    /// row, as in a GGUF file (for weights produced in memory, tests and benchmarks).
    public convenience init(name: String, type: GGMLType, rows: Int, cols: Int, copying bytes: UnsafeRawBufferPointer) throws {
        guard type.isDecodable, let blockSize = type.blockSize, let blockBytes = type.blockBytes else {
            throw TensorError.invalidArgument("'\(name)': type \(type.name) is not supported")
        }
        let needed = rows.multipliedReportingOverflow(by: cols / blockSize * blockBytes)
        guard rows >= 0, cols >= 0, cols % blockSize == 0, rows <= Int(Int32.max), cols <= Int(Int32.max),
              !needed.overflow, needed.partialValue == bytes.count else {
            throw TensorError.invalidArgument("'\(name)': \(bytes.count) bytes do not hold [\(rows), \(cols)] of \(type.name)")
        }
        let buffer = OwnedBytes(copying: bytes)
        self.init(name: name, type: type, rows: rows, cols: cols, blocks: UnsafeRawPointer(buffer.base), owner: buffer)
    }

    /// Whether matvec reads the blocks directly (no dequantized copy of any row).
    public var hasDirectKernel: Bool { type == .q8_0 || type == .q4_1 || type == .f32 && isFloatAligned }

    private var isFloatAligned: Bool { Int(bitPattern: blocks) % MemoryLayout<Float>.alignment == 0 }

    // MARK: - rows

    /// Dequantizes row `i` into `dst` (`cols` floats).
    public func row(_ i: Int, into dst: UnsafeMutablePointer<Float>) throws {
        guard i >= 0, i < rows else {
            throw TensorError.invalidArgument("row \(i) of '\(name)' is out of range (\(rows) rows)")
        }
        GGMLDecoder.decode(type, from: blocks + i * rowBytes, into: dst, count: cols)
    }

    /// Row `i` as a [cols] tensor.
    public func row(_ i: Int) throws -> Tensor {
        let out = Tensor(zeros: [cols])
        try row(i, into: out.data)
        return out
    }

    /// The whole matrix as a [rows, cols] Float32 tensor.
    public func dequantized() -> Tensor {
        let out = Tensor(zeros: [rows, cols])
        GGMLDecoder.decode(type, from: blocks, into: out.data, count: rows * cols)
        return out
    }

    // MARK: - matvec

    /// y[rows] = W x[cols]. `threads` defaults to Threads.count; small matrices run on one.
    public func matvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, threads: Int = Threads.count) {
        let w = blocks.assumingMemoryBound(to: UInt8.self)
        let cols = self.cols
        switch type {
        case .q8_0:
            RowChunks.run(rows: rows, costPerRow: cols, threads: threads) { r in
                ck_q8_0_matvec(w, cols, x, y, r.lowerBound, r.upperBound)
            }
        case .q4_1:
            var xsum = [Float](repeating: 0, count: cols / 32)
            ck_block_sums32(x, cols, &xsum)
            xsum.withUnsafeBufferPointer { s in
                RowChunks.run(rows: rows, costPerRow: cols, threads: threads) { r in
                    ck_q4_1_matvec(w, cols, x, s.baseAddress, y, r.lowerBound, r.upperBound)
                }
            }
        case .f32 where isFloatAligned:
            let a = blocks.assumingMemoryBound(to: Float.self)
            RowChunks.run(rows: rows, costPerRow: cols, threads: threads) { r in
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(r.count), blasint(cols), 1,
                            a + r.lowerBound * cols, blasint(cols), x, 1, 0, y + r.lowerBound, 1)
            }
        default:
            RowChunks.run(rows: rows, costPerRow: cols, threads: threads) { r in
                tiledMatvec(x, into: y, rows: r)
            }
        }
    }

    /// Rows a dequantized tile holds: about 64 K floats (256 KB, stays in L2).
    private var tileRows: Int { max(1, min(rows, 65536 / max(cols, 1))) }

    /// Dequantizes `rows` a tile at a time and multiplies each tile with sgemv.
    private func tiledMatvec(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * cols)
        defer { tile.deallocate() }
        var r0 = range.lowerBound
        while r0 < range.upperBound {
            let n = min(tileRows, range.upperBound - r0)
            GGMLDecoder.decode(type, from: blocks + r0 * rowBytes, into: tile, count: n * cols)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(n), blasint(cols), 1, tile, blasint(cols), x, 1, 0, y + r0, 1)
            r0 += n
        }
    }

    /// x [cols] -> [rows].
    public func matvec(_ x: Tensor, threads: Int = Threads.count) throws -> Tensor {
        guard x.count == cols else {
            throw TensorError.shapeMismatch("matvec of '\(name)' [\(rows), \(cols)] with a vector of shape \(x.shape)")
        }
        let xc = x.contiguousData()
        let out = Tensor(zeros: [rows])
        matvec(xc.data, into: out.data, threads: threads)
        return out
    }

    // MARK: - matmul

    /// Y[n, rows] = X[n, cols] Wᵀ (row-major). Up to 2 vectors go through matvec; more through
    /// tiles of dequantized rows and cblas_sgemm, the rows of W split over `threads` (each thread
    /// dequantizes and multiplies its own tiles, so dequantizing runs in parallel too).
    public func matmul(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, threads: Int = Threads.count) {
        if n <= 0 || rows == 0 { return }
        if n <= 2 && hasDirectKernel {
            let column = UnsafeMutablePointer<Float>.allocate(capacity: rows)
            defer { column.deallocate() }
            for i in 0..<n {
                matvec(x + i * cols, into: column, threads: threads)
                (y + i * rows).update(from: column, count: rows)
            }
            return
        }
        _ = Threads.blasConfigured
        let tile = matmulTileRows, tiles = (rows + tile - 1) / tile
        Threads.parallelFor(tiles, costPerItem: n * tile * cols, threads: threads) { range in
            tiledMatmul(x, n: n, into: y, rows: range.lowerBound * tile ..< min(rows, range.upperBound * tile))
        }
    }

    /// Rows of W in one tile of matmul: an even number of tiles of at most 256 rows (a multiple
    /// of 8), e.g. 6 × 96 for 576 rows. The grid depends on the shape only, so a product is the
    /// same on any thread count, and 2 threads get equal shares. (Smaller tiles cost: BLAS packs
    /// all of X again for each tile.)
    var matmulTileRows: Int {
        let tiles = 2 * ((rows + 255) / 256)
        return ((rows + tiles - 1) / tiles + 7) / 8 * 8
    }

    /// Y[:, range] = X · W[range]ᵀ on the calling thread, one dequantized tile of rows at a time,
    /// packed for the tensor core's GEMM (PackedMatrix's layout for this CPU).
    private func tiledMatmul(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        let tileRows = matmulTileRows
        let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * cols)
        defer { tile.deallocate() }
        var r0 = range.lowerBound
        while r0 < range.upperBound {
            let m = min(tileRows, range.upperBound - r0)
            GGMLDecoder.decode(type, from: blocks + r0 * rowBytes, into: tile, count: m * cols)
            // Y[:, r0..<r0+m] = X · tileᵀ, written in place with leading dimension `rows`
            let packed = PackedMatrix(weight: tile, outFeatures: m, inFeatures: cols)
            packed.multiply(x, rows: n, bias: nil, gelu: false, into: y + r0, ldy: rows)
            r0 += m
        }
    }

    /// X [n, cols] (or [cols]) -> [n, rows].
    public func matmul(_ x: Tensor, threads: Int = Threads.count) throws -> Tensor {
        guard x.rank >= 1, x.shape.last == cols else {
            throw TensorError.shapeMismatch("matmul of '\(name)' [\(rows), \(cols)] with input of shape \(x.shape)")
        }
        let n = x.count / cols
        let xc = x.contiguousData()
        let out = Tensor(zeros: Array(x.shape.dropLast()) + [rows])
        matmul(xc.data, n: n, into: out.data, threads: threads)
        return out
    }
}

/// Memory owned by a QuantizedMatrix made from bytes (64-byte aligned, like a mapped tensor).
private final class OwnedBytes {
    let base: UnsafeMutableRawPointer

    init(copying bytes: UnsafeRawBufferPointer) {
        base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        if let src = bytes.baseAddress { base.copyMemory(from: src, byteCount: bytes.count) }
    }

    deinit { base.deallocate() }
}
