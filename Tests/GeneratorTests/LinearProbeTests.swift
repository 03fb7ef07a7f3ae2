// The answerability probe's fit: the folded weights sit at the optimum of the objective it states
// (gradient ≈ 0, computed here independently in Double over the raw features), and it separates
// what is separable.

import XCTest
@testable import Generator

final class LinearProbeTests: XCTestCase {
    /// Two overlapping clouds in 6 dimensions of very different scales and offsets.
    func data(n: Int) -> (x: [[Float]], y: [Bool]) {
        var state: UInt64 = 42
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        func normal() -> Double { (-2 * log(max(uniform(), 1e-12))).squareRoot() * cos(2 * .pi * uniform()) }
        let scale: [Double] = [1, 10, 0.1, 100, 3, 0.01], offset: [Double] = [5, -20, 0, 300, 1, 2]
        var x: [[Float]] = [], y: [Bool] = []
        for i in 0..<n {
            let label = i % 3 != 0
            x.append((0..<6).map { j in Float(offset[j] + scale[j] * (normal() + (label && j < 3 ? 1.2 : 0))) })
            y.append(label)
        }
        return (x, y)
    }

    func testFitReachesTheOptimumOfItsObjective() throws {
        let (x, y) = data(n: 300)
        let l2: Float = 0.2
        let probe = try LinearProbe.fit(features: x, labels: y, l2: l2)
        // The objective over standardised features x̂ = (x − μ)/σ with u = w σ:
        //   mean BCE(u·x̂ + c, y) + l2/2 |u|²,  c = b + μ·w
        let n = Double(x.count), c = x[0].count
        let mean = (0..<c).map { j in x.reduce(0.0) { $0 + Double($1[j]) } / n }
        let sd = (0..<c).map { j in (x.reduce(0.0) { $0 + pow(Double($1[j]) - mean[j], 2) } / n).squareRoot() + 1e-6 }
        let u = (0..<c).map { Double(probe.weights[$0]) * sd[$0] }
        var gradU = u.map { Double(l2) * $0 }, gradC = 0.0, correct = 0
        for (row, label) in zip(x, y) {
            let z = Double(try probe.score(row))
            let e = 1 / (1 + exp(-z)) - (label ? 1 : 0)
            gradC += e / n
            for j in 0..<c { gradU[j] += e * (Double(row[j]) - mean[j]) / sd[j] / n }
            if (z > 0) == label { correct += 1 }
        }
        XCTAssertLessThan(abs(gradC), 1e-3)
        for g in gradU { XCTAssertLessThan(abs(g), 1e-3, "\(gradU)") }
        XCTAssertGreaterThan(Double(correct) / n, 0.75)
    }

    func testBadInputIsAnError() {
        XCTAssertThrowsError(try LinearProbe.fit(features: [[1], [2]], labels: [true, true]))
        XCTAssertThrowsError(try LinearProbe.fit(features: [[1], [2, 3]], labels: [true, false]))
        XCTAssertThrowsError(try LinearProbe.fit(features: [[1]], labels: [true]))
        XCTAssertThrowsError(try LinearProbe(weights: [1, 2], bias: 0).score([1]))
    }
}
