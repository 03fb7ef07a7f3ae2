import CBLAS
import CKernels
import Foundation
import XCTest
@testable import Tensor

final class CheckpointQuantizedMatrixTests: XCTestCase {
    override func tearDown() {
        _ = ck_quant_set_simd_level(-1)  // back to the best variant
    }

    /// A deterministic activation vector with mixed signs and magnitudes.
    static func activations(_ n: Int, seed: Double = 1) -> [Float] {
        (0..<n).map { i -> Float in
            let t = Double(i) * 0.731 + seed
            return Float(sin(t) * Double(1 + i % 7))
        }
    }

    /// |y - ref| ≤ 1e-5 · Σ|w||x| per output: exact up to summation order in Float32.
    static func assertProductsMatch(_ y: [Float], weights w: [Float], x: [Float], rows: Int, cols: Int,
                                    _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for r in 0..<rows {
            var ref = 0.0, magnitude = 0.0
            for c in 0..<cols {
                ref += Double(w[r * cols + c]) * Double(x[c])
                magnitude += abs(Double(w[r * cols + c]) * Double(x[c]))
            }
            if abs(Double(y[r]) - ref) > 1e-5 * magnitude + 1e-30 {
                XCTFail("\(label) row \(r): \(y[r]) vs \(ref) (Σ|wx| = \(magnitude))", file: file, line: line)
                return
            }
        }
    }

    func testMatvecMatchesDequantizedReferenceForEveryType() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        for (entry, w) in try CheckpointGGUFTests.expectedTensors() {
            let m = try file.matrix(entry.name)
            let (rows, cols) = (m.rows, m.cols)
            XCTAssertEqual([rows, cols], [entry.shape.dropLast().reduce(1, *), entry.shape.last ?? 0])
            let x = Self.activations(cols)
            let levels: [Int32] = m.type == .q8_0 || m.type == .q4_1 ? [0, 1, 2] : [-1]
            for level in levels {
                let used = ck_quant_set_simd_level(level)
                var y = [Float](repeating: .nan, count: rows)
                m.matvec(x, into: &y, threads: 1)
                Self.assertProductsMatch(y, weights: w, x: x, rows: rows, cols: cols, "\(entry.name) simd level \(used)")
            }
            _ = ck_quant_set_simd_level(-1)
            // row(i) is the dequantized row
            for i in [0, rows - 1] {
                XCTAssertEqual(try m.row(i).toArray(), Array(w[i * cols..<(i + 1) * cols]), "\(entry.name) row \(i)")
            }
            XCTAssertThrowsError(try m.row(rows))
            XCTAssertThrowsError(try m.row(-1))
        }
    }

    func testMatmulMatchesReferenceForBatches() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        for (entry, w) in try CheckpointGGUFTests.expectedTensors() {
            let m = try file.matrix(entry.name)
            for n in [1, 2, 3, 9] {
                let xs = (0..<n).map { Self.activations(m.cols, seed: Double($0)) }
                let out = try m.matmul(try Tensor(xs.flatMap { $0 }, shape: [n, m.cols]))
                XCTAssertEqual(out.shape, [n, m.rows])
                let y = out.toArray()
                for i in 0..<n {
                    Self.assertProductsMatch(Array(y[i * m.rows..<(i + 1) * m.rows]), weights: w, x: xs[i],
                                             rows: m.rows, cols: m.cols, "\(entry.name) matmul n=\(n) item \(i)")
                }
            }
            XCTAssertThrowsError(try m.matmul(Tensor(zeros: [2, m.cols + 1])))
            XCTAssertThrowsError(try m.matvec(Tensor(zeros: [m.cols - 1])))
        }
    }

    /// On the real model's weights: Q4_1 (projections), Q8_0 (tied embedding / output), F32 (norm as
    /// a 1-row matrix): matvec on 1 and several threads, and a batched matmul, against
    /// dequantize + OpenBLAS.
    func testDefaultModelMatricesMatchDequantizedBLAS() throws {
        guard let url = CheckpointFixtures.defaultGGUF else { throw XCTSkip("default GGUF not present") }
        let file = try GGUFFile(url: url)
        for name in ["blk.0.ffn_down.weight", "blk.0.ffn_gate.weight", "blk.3.attn_k.weight", "token_embd.weight",
                     "output_norm.weight"] {
            let m = try file.matrix(name)
            let w = m.dequantized()
            let shape = try XCTUnwrap(file.info(name)).shape
            XCTAssertEqual(w.shape, shape.count == 1 ? [1, m.cols] : shape)
            let x = Self.activations(m.cols, seed: 3)
            var ref = [Float](repeating: 0, count: m.rows)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(m.rows), blasint(m.cols), 1, w.data, blasint(m.cols), x, 1, 0, &ref, 1)
            var one = [Float](repeating: .nan, count: m.rows), many = one
            m.matvec(x, into: &one, threads: 1)
            m.matvec(x, into: &many, threads: max(2, Threads.count))
            XCTAssertEqual(one, many, "\(name): threads change nothing (rows are independent)")
            let scale = ref.map { abs($0) }.max() ?? 1
            let worst = zip(ref, one).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5 * max(scale, 1e-6), "\(name) (\(m.type)) matvec")
            // embedding lookup = row of the dequantized matrix
            let r = m.rows - 1
            XCTAssertEqual(try m.row(r).toArray(), Array(UnsafeBufferPointer(start: w.data + r * m.cols, count: m.cols)))
            if m.rows <= 2048 {
                let n = 5
                let xs = (0..<n).flatMap { Self.activations(m.cols, seed: Double($0)) }
                let y = try m.matmul(try Tensor(xs, shape: [n, m.cols])).toArray()
                var yRef = [Float](repeating: 0, count: n * m.rows)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blasint(n), blasint(m.rows), blasint(m.cols), 1,
                            xs, blasint(m.cols), w.data, blasint(m.cols), 0, &yRef, blasint(m.rows))
                let worstBatch = zip(y, yRef).map { abs($0 - $1) }.max() ?? 0
                // with AMX the batched product runs in bf16x3: about 16 bits of each operand
                let relative: Float = ck_gemm_simd_level() >= 3 ? 1e-3 : 1e-5
                XCTAssertLessThanOrEqual(worstBatch, relative * max(yRef.map(abs).max() ?? 1, 1e-6), "\(name) matmul")
            }
        }
    }
}
