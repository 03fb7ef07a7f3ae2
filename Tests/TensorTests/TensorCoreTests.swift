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
}
