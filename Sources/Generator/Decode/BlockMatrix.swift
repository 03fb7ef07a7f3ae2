// A GGUF weight in Q8_0 or Q4_1 blocks, multiplied a range of rows at a time by the CKernels
// matvecs (so one parallel section can split several matrices between threads). It reads the
// blocks of a Tensor QuantizedMatrix in place and keeps the matrix alive.

import CKernels
import Tensor

struct BlockMatrix: @unchecked Sendable {
    enum Kind {
        case q8_0, q4_1
    }

    let kind: Kind
    let rows: Int
    let cols: Int
    private let blocks: UnsafePointer<UInt8>
    /// Owns the memory of `blocks` (the mapped file).
    private let owner: QuantizedMatrix

    init?(_ matrix: QuantizedMatrix) {
        switch matrix.type {
        case .q8_0: kind = .q8_0
        case .q4_1: kind = .q4_1
        default: return nil
        }
        guard matrix.rows > 0, matrix.cols > 0, matrix.cols % 32 == 0 else { return nil }
        rows = matrix.rows
        cols = matrix.cols
        blocks = matrix.blocks.assumingMemoryBound(to: UInt8.self)
        owner = matrix
    }

    /// y[r] = W[r] · x for r in `range`. `xsum` [cols/32] holds the block sums of x (ck_block_sums32; Q4_1 only).
    func multiply(rows range: Range<Int>, x: UnsafePointer<Float>, xsum: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        guard !range.isEmpty else { return }
        switch kind {
        case .q8_0: ck_q8_0_matvec(blocks, cols, x, y, range.lowerBound, range.upperBound)
        case .q4_1: ck_q4_1_matvec(blocks, cols, x, xsum, y, range.lowerBound, range.upperBound)
        }
    }
}
