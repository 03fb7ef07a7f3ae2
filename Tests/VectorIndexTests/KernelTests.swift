import CKernels
import SeededRandom
import XCTest
@testable import VectorIndex

final class KernelTests: XCTestCase {
    /// The dispatched SIMD kernels agree with the portable loops for every tail length.
    func testSIMDKernelsMatchPortable() {
        var r = SplitMix64(seed: 7)
        for n in [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 384, 785] {
            let a = (0..<n).map { _ in r.gaussian() }, b = (0..<n).map { _ in r.gaussian() }
            var dot: Double = 0, l2: Double = 0
            for i in 0..<n { dot += Double(a[i] * b[i]); l2 += Double((a[i] - b[i]) * (a[i] - b[i])) }
            let tolerance = 1e-4 * Double(n).squareRoot() * 4
            XCTAssertEqual(Double(ck_dot_f32(a, b, n)), dot, accuracy: tolerance, "dot n=\(n) \(distanceKernelISA)")
            XCTAssertEqual(Double(ck_l2sq_f32(a, b, n)), l2, accuracy: tolerance * 4, "l2 n=\(n)")
            XCTAssertEqual(Double(ck_dot_portable_f32(a, b, n)), dot, accuracy: tolerance)
            XCTAssertEqual(Double(ck_l2sq_portable_f32(a, b, n)), l2, accuracy: tolerance * 4)
        }
    }

    func testBatchAndGatherMatchSinglePairs() {
        var r = SplitMix64(seed: 9)
        let dim = 37, rows = 11
        let base = (0..<dim * rows).map { _ in r.gaussian() }
        let q = (0..<dim).map { _ in r.gaussian() }
        var batch = [Float](repeating: 0, count: rows), gathered = [Float](repeating: 0, count: 3)
        let ids: [Int32] = [10, 0, 4]
        ck_l2sq_batch_f32(q, base, 4 * dim, rows, dim, &batch)
        ck_l2sq_gather_f32(q, base, 4 * dim, dim, ids, 3, &gathered)
        for row in 0..<rows {
            let single = base.withUnsafeBufferPointer { ck_l2sq_f32(q, $0.baseAddress! + row * dim, dim) }
            XCTAssertEqual(batch[row], single)
        }
        for (i, id) in ids.enumerated() { XCTAssertEqual(gathered[i], batch[Int(id)]) }
        ck_dot_batch_f32(q, base, 4 * dim, rows, dim, &batch)
        ck_dot_gather_f32(q, base, 4 * dim, dim, ids, 3, &gathered)
        for (i, id) in ids.enumerated() { XCTAssertEqual(gathered[i], batch[Int(id)]) }
    }

    /// Rows in padded blocks (stride > 4·dim, as the graph stores them) give the same distances.
    func testStridedRowsSkipThePadding() {
        var r = SplitMix64(seed: 11)
        let dim = 37, rows = 9, strideFloats = 48
        let dense = (0..<dim * rows).map { _ in r.gaussian() }
        var padded = [Float](repeating: .nan, count: strideFloats * rows)  // padding poisons any overrun
        for row in 0..<rows { for j in 0..<dim { padded[row * strideFloats + j] = dense[row * dim + j] } }
        let q = (0..<dim).map { _ in r.gaussian() }
        let ids: [Int32] = [8, 2, 2, 0]
        var a = [Float](repeating: 0, count: rows), b = a, g1 = [Float](repeating: 0, count: 4), g2 = g1
        ck_l2sq_batch_f32(q, dense, 4 * dim, rows, dim, &a)
        ck_l2sq_batch_f32(q, padded, 4 * strideFloats, rows, dim, &b)
        XCTAssertEqual(a, b)
        ck_dot_gather_f32(q, dense, 4 * dim, dim, ids, 4, &g1)
        ck_dot_gather_f32(q, padded, 4 * strideFloats, dim, ids, 4, &g2)
        XCTAssertEqual(g1, g2)
        XCTAssertTrue(b.allSatisfy(\.isFinite) && g2.allSatisfy(\.isFinite))
    }
}
