// The C kernels of a decode step against plain references in Double: the Q8_0 / Q4_1 matvecs
// against dequantize-then-dot (odd row counts, row ranges that split the 4-row groups, the
// portable and the AVX2 variants), and the decode attention against softmax(q·K)·V.

import CKernels
import SeededRandom
import Tensor
import XCTest
@testable import Generator

final class DecodeKernelTests: XCTestCase {
    override func tearDown() {
        _ = ck_quant_set_simd_level(-1)
    }

    private var random = SplitMix64(seed: 99)

    private func values(_ n: Int, scale: Float) -> [Float] {
        (0..<n).map { _ in Float(random.nextUnit() * 2 - 1) * scale }
    }

    /// Variants to test: portable, then AVX2 when the CPU has it.
    private var levels: [Int32] { [0, 1].filter { ck_quant_set_simd_level($0) == $0 } }

    func testQuantizedMatvecsMatchDequantizedProducts() {
        for isQ8 in [true, false] {
            for (rows, cols) in [(1, 32), (3, 64), (4, 96), (5, 576), (13, 160), (64, 1536)] {
                let weights = values(rows * cols, scale: 0.7)
                let blocks = isQ8 ? BlockQuantizer.q8_0(weights) : BlockQuantizer.q4_1(weights)
                var dense = [Float](repeating: 0, count: rows * cols)
                if isQ8 { ck_dequant_q8_0(blocks, &dense, rows * cols) } else { ck_dequant_q4_1(blocks, &dense, rows * cols) }
                let x = values(cols, scale: 3)
                var xsum = [Float](repeating: 0, count: cols / 32)
                ck_block_sums32(x, cols, &xsum)
                for level in levels {
                    _ = ck_quant_set_simd_level(level)
                    for range in [0..<rows, 1..<rows, (rows / 2)..<rows] where !range.isEmpty {
                        var y = [Float](repeating: .nan, count: rows)
                        if isQ8 { ck_q8_0_matvec(blocks, cols, x, &y, range.lowerBound, range.upperBound) } else {
                            ck_q4_1_matvec(blocks, cols, x, xsum, &y, range.lowerBound, range.upperBound)
                        }
                        for r in 0..<rows {
                            guard range.contains(r) else {
                                XCTAssertTrue(y[r].isNaN, "row \(r) outside \(range) was written")
                                continue
                            }
                            var ref = 0.0, magnitude = 0.0
                            for c in 0..<cols {
                                ref += Double(dense[r * cols + c]) * Double(x[c])
                                magnitude += abs(Double(dense[r * cols + c]) * Double(x[c]))
                            }
                            XCTAssertLessThanOrEqual(abs(Double(y[r]) - ref), 1e-5 * magnitude + 1e-12,
                                                     "\(isQ8 ? "Q8_0" : "Q4_1") [\(rows), \(cols)] rows \(range) level \(level) row \(r)")
                        }
                    }
                }
            }
        }
    }

    func testBlockMatrixReadsTheBlocksOfQuantizedMatrix() throws {
        let rows = 7, cols = 96
        for (type, encode) in [(GGMLType.q8_0, BlockQuantizer.q8_0), (.q4_1, BlockQuantizer.q4_1)] {
            let bytes = encode(values(rows * cols, scale: 0.5))
            let matrix = try bytes.withUnsafeBytes { try QuantizedMatrix(name: "w", type: type, rows: rows, cols: cols, copying: $0) }
            let view = try XCTUnwrap(BlockMatrix(matrix), "\(type.name)")
            let x = values(cols, scale: 2)
            var xsum = [Float](repeating: 0, count: cols / 32), ours = [Float](repeating: .nan, count: rows)
            var theirs = [Float](repeating: .nan, count: rows)
            ck_block_sums32(x, cols, &xsum)
            view.multiply(rows: 0..<rows, x: x, xsum: xsum, into: &ours)
            matrix.matvec(x, into: &theirs, threads: 1)
            XCTAssertEqual(ours, theirs, "\(type.name): the view multiplies other blocks than the matrix")
        }
    }

    func testDecodeAttentionMatchesSoftmaxReference() {
        for hd in [8, 12, 64] {
            for length in [1, 5, 37] {
                for sharpness: Float in [0.3, 30] {  // 30: scores far apart, most weights underflow
                    let stride = 3 * hd  // rows of one kv head among three
                    let q = values(hd, scale: sharpness), keys = values(length * stride, scale: 1), vals = values(length * stride, scale: 1)
                    let scale = 1 / Float(hd).squareRoot()
                    var scores = [Double](repeating: 0, count: length)
                    for j in 0..<length {
                        scores[j] = (0..<hd).reduce(0.0) { $0 + Double(q[$1]) * Double(keys[j * stride + hd + $1]) } * Double(scale)
                    }
                    let top = scores.max() ?? 0
                    let weights = scores.map { exp($0 - top) }, total = weights.reduce(0, +)
                    let expected = (0..<hd).map { i in (0..<length).reduce(0.0) { $0 + weights[$1] / total * Double(vals[$1 * stride + hd + i]) } }
                    for level in levels {
                        _ = ck_quant_set_simd_level(level)
                        var out = [Float](repeating: .nan, count: hd), scratch = [Float](repeating: 0, count: length)
                        keys.withUnsafeBufferPointer { k in
                            vals.withUnsafeBufferPointer { v in
                                ck_attend_one(q, k.baseAddress! + hd, v.baseAddress! + hd, stride, length, hd, scale, &scratch, &out)
                            }
                        }
                        let worst = zip(out, expected).map { abs(Double($0) - $1) }.max() ?? .infinity
                        XCTAssertLessThanOrEqual(worst, 2e-6, "hd \(hd), length \(length), sharpness \(sharpness), level \(level)")
                    }
                }
            }
        }
    }
}
