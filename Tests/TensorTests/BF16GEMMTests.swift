// The bf16 GEMM (ck_sgemm_bf16, `rag finetune --bf16`): exact to Float32 summation against the
// product of the operands rounded to bf16, for every layout and edge (odd k, partial tiles,
// accumulate); split over threads it gives the same bits; and the frozen linear layer and fused
// head in bf16 stay within bf16's rounding of their Float32 results, gradients included.

import CKernels
import Foundation
import XCTest
@testable import Tensor

final class BF16GEMMTests: XCTestCase {
    override func setUpWithError() throws {
        guard FrozenPrecision.bfloat16IsAvailable else { throw XCTSkip("this CPU has no AVX512-BF16") }
    }

    /// x rounded to bf16, nearest even (what the kernel's VCVTNE2PS2BF16 does).
    private func bf16(_ x: Float) -> Float {
        let u = x.bitPattern
        return Float(bitPattern: (u &+ 0x7fff &+ ((u >> 16) & 1)) & 0xffff_0000)
    }

    func testMatchesTheProductOfRoundedOperands() throws {
        for (m, n, k) in [(17, 70, 33), (40, 18, 401), (130, 100, 20), (3, 5, 1), (15, 33, 2)] {
            for transB in [false, true] {
                for accumulate in [false, true] {
                    let (lda, ldb, ldc) = (k + 2, (transB ? k : n) + 3, n + 1)
                    let a = randomTensor([m, lda], seed: 61), b = randomTensor([transB ? n : k, ldb], seed: 62)
                    let (av, bv) = (a.toArray(), b.toArray())
                    let c = randomTensor([m, ldc], seed: 63)
                    let before = c.toArray()
                    XCTAssertEqual(ck_sgemm_bf16(transB ? 1 : 0, m, n, k, a.data, lda, b.data, ldb, accumulate ? 1 : 0, c.data, ldc), 0)
                    let cv = c.toArray()
                    for i in 0..<m {
                        for j in 0..<n {
                            var dot = 0.0, size = 0.0
                            for p in 0..<k {
                                let y = transB ? bv[j * ldb + p] : bv[p * ldb + j]
                                let t = Double(bf16(av[i * lda + p])) * Double(bf16(y))
                                dot += t
                                size += abs(t)
                            }
                            let ref = dot + (accumulate ? Double(before[i * ldc + j]) : 0)
                            XCTAssertEqual(Double(cv[i * ldc + j]), ref, accuracy: 1e-5 * max(1, size + abs(ref)),
                                           "transB \(transB) accumulate \(accumulate) [\(m), \(n), \(k)] at \(i), \(j)")
                        }
                        XCTAssertEqual(cv[i * ldc + n], before[i * ldc + n], "column past n untouched")
                    }
                }
            }
        }
    }

    func testThreadsGiveTheSameBits() throws {
        for transB in [false, true] {
            let (m, n, k) = (200, 300, 257)
            let a = randomTensor([m, k], seed: 64), b = randomTensor(transB ? [n, k] : [k, n], seed: 65)
            var results: [[Float]] = []
            for (threads, rows) in [(1, m), (2, m), (2, 20)] {   // 20 rows: split by columns
                let c = Tensor(zeros: [rows, n])
                Threads.sgemmBF16(transB: transB, m: rows, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: transB ? k : n,
                                  accumulate: false, c: c.data, ldc: n, threads: threads)
                results.append(Array(c.toArray().prefix(20 * n)))
            }
            XCTAssertEqual(results[0], results[1], "transB \(transB): rows split")
            XCTAssertEqual(results[0], results[2], "transB \(transB): columns split")
        }
    }

    /// The frozen linear layer and the fused head in bf16 against Float32: outputs and the input's
    /// gradient within bf16's rounding (two operands of 8-bit mantissa: ~0.5 % of each product).
    func testFrozenProductsStayNearFloat32() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        var weights: [FrozenMatrix] = [.dense(randomTensor([70, 96], seed: 66))]
        for (entry, _) in try CheckpointGGUFTests.expectedTensors() { weights.append(.quantized(try file.matrix(entry.name))) }
        for w in weights {
            func run(_ precision: FrozenPrecision) throws -> (y: [Float], gx: [Float]) {
                let x = randomTensor([20, w.cols], seed: 67, std: 0.5)
                x.requiresGrad = true
                let y = try Tensor.linear(x, frozen: w, precision: precision)
                y.backward(gradient: randomTensor(y.shape, seed: 68))
                return (y.toArray(), try XCTUnwrap(x.grad).toArray())
            }
            let (f32, b16) = (try run(.float32), try run(.bfloat16))
            XCTAssertLessThan(relativeError(b16.y, f32.y), 1e-2, "\(w.name) forward")
            XCTAssertLessThan(relativeError(b16.gx, f32.gx), 1e-2, "\(w.name) dx")
        }
        let head = randomTensor([2100, 32], seed: 69)
        let targets = [7, -100, 2099, 2048, 0, 1500]
        func logProbs(_ precision: FrozenPrecision) throws -> (logp: [Float], gh: [Float]) {
            let h = randomTensor([2, 3, 32], seed: 70)
            h.requiresGrad = true
            let out = try Tensor.targetLogProbs(h, head: .dense(head), targets: targets, precision: precision)
            out.backward(gradient: Tensor(repeating: 1, shape: out.shape))
            return (out.toArray(), try XCTUnwrap(h.grad).toArray())
        }
        let (f32, b16) = (try logProbs(.float32), try logProbs(.bfloat16))
        for (a, b) in zip(b16.logp, f32.logp) { XCTAssertEqual(a, b, accuracy: 0.05 * max(1, abs(b))) }
        XCTAssertLessThan(relativeError(b16.gh, f32.gh), 2e-2, "head dh")
    }

    /// |a − b| / |b| over whole vectors.
    private func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(a, b) { diff += Double(x - y) * Double(x - y); norm += Double(y) * Double(y) }
        return (diff / max(norm, 1e-30)).squareRoot()
    }
}
