import XCTest
@testable import Tensor

final class TensorCoreTests: XCTestCase {
    func testInitChecksCount() {
        XCTAssertThrowsError(try Tensor([1, 2, 3], shape: [2, 2]))
        XCTAssertEqual(try Tensor([1, 2, 3, 4], shape: [2, 2]).toArray(), [1, 2, 3, 4])
    }

    func testStridedViewCopiesInRowMajorOrder() throws {
        let t = try Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        // a transposed view [3, 2] over the same storage
        let v = Tensor(storage: t.storage, shape: [3, 2], strides: [1, 3])
        XCTAssertFalse(v.isContiguous)
        XCTAssertEqual(v.toArray(), [1, 4, 2, 5, 3, 6])
    }

    func testNoGradRecordsNothing() {
        let a = Tensor(repeating: 2, shape: [2], requiresGrad: true)
        let out = Tensor(zeros: [2])
        noGrad { Tensor.record(out, inputs: [a]) { _ in } }
        XCTAssertFalse(out.requiresGrad)
        Tensor.record(out, inputs: [a]) { g in a.receiveGrad(g) }
        XCTAssertTrue(out.requiresGrad)
        out.backward(gradient: Tensor(repeating: 3, shape: [2]))
        XCTAssertEqual(a.grad?.toArray(), [3, 3])
    }

    /// Products of a few MFLOP or more are split over the threads (a Swift precedence slip once kept
    /// every product on one thread: `>>` binds tighter than `*`), and the split gives the same C.
    func testLargeProductsAreSplitOverThreads() throws {
        XCTAssertEqual(Threads.productParts(m: 256, n: 256, k: 256, threads: 2), 2)
        XCTAssertEqual(Threads.productParts(m: 1024, n: 576, k: 576, threads: 4), 4)
        XCTAssertLessThanOrEqual(Threads.productParts(m: 8, n: 8, k: 8, threads: 2), 1)
        let (m, n, k) = (300, 200, 100)
        let a = randomTensor([m, k], seed: 71), b = randomTensor([k, n], seed: 72)
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            let c = Tensor(zeros: [m, n])
            Threads.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a.data, lda: k, b: b.data, ldb: n,
                          beta: 0, c: c.data, ldc: n, threads: threads)
            results.append(c.toArray())
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }
}
