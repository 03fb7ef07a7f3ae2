// Gradients against central differences, shared by the tests of the trainable model.

import Foundation
import Tensor
import XCTest

/// Compares each parameter's gradient (already accumulated in `grad`) with central differences of
/// `objective` at about `samples` evenly spaced entries; returns how many entries were checked.
@discardableResult
func assertGradientsMatchFiniteDifferences(_ params: [(String, Tensor)], samples: Int, eps: Float = 1e-2, absolute: Float,
                                           relative: Float = 2e-2, label: String = "", objective: () throws -> Double,
                                           file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    var checked = 0
    for (key, p) in params {
        let analytic = p.grad?.toArray() ?? []
        XCTAssertEqual(analytic.count, p.count, key, file: file, line: line)
        for i in stride(from: 0, to: min(p.count, analytic.count), by: max(1, p.count / samples)) {
            let keep = p.data[i]
            p.data[i] = keep + eps; p.storage.markModified()
            let up = try noGrad { try objective() }
            p.data[i] = keep - eps; p.storage.markModified()
            let down = try noGrad { try objective() }
            p.data[i] = keep; p.storage.markModified()
            let numeric = Float((up - down) / Double(2 * eps))
            XCTAssertEqual(analytic[i], numeric, accuracy: absolute + relative * abs(numeric), "\(key)[\(i)] \(label)", file: file, line: line)
            checked += 1
        }
    }
    return checked
}
