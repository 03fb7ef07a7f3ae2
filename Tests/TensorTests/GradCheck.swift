import XCTest
@testable import Tensor

/// Compares autograd gradients of L = sum(f() * R) (R fixed random weights) with central finite
/// differences, for every element of every input. The forward runs in Float32, L is summed in Double.
func assertGradients(_ inputs: [Tensor], eps: Float = 1e-3, rtol: Float = 5e-3, atol: Float = 1e-3, seed: UInt64 = 99,
                     file: StaticString = #filePath, line: UInt = #line, _ f: () throws -> Tensor) throws {
    for t in inputs { t.requiresGrad = true; t.zeroGrad() }
    let out = try f()
    var rng = TensorRNG(seed: seed)
    let weights = Tensor.randn(out.shape, rng: &rng)
    let w = weights.toArray()
    func loss() throws -> Double {
        let y = try noGrad { try f() }.toArray()
        return zip(y, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    out.backward(gradient: weights)
    for (n, t) in inputs.enumerated() {
        XCTAssertTrue(t.isContiguous, "input \(n) must be dense", file: file, line: line)
        let analytic = t.grad?.toArray() ?? [Float](repeating: 0, count: t.count)
        for i in 0..<t.count {
            let keep = t.data[i]
            func set(_ v: Float) { t.data[i] = v; t.storage.markModified() }   // as any writer through `data` must
            set(keep + eps)
            let up = try loss()
            set(keep - eps)
            let down = try loss()
            set(keep)
            let numeric = Float((up - down) / Double(2 * eps))
            let a = analytic[i]
            if abs(a - numeric) > atol + rtol * max(abs(a), abs(numeric)) {
                XCTFail("input \(n) element \(i): autograd \(a), finite difference \(numeric)", file: file, line: line)
                return
            }
        }
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1, positive: Bool = false) -> Tensor {
    var rng = TensorRNG(seed: seed)
    let t = Tensor.randn(shape, std: std, rng: &rng)
    if positive { for i in 0..<t.count { t.data[i] = abs(t.data[i]) + 0.5 } }
    return t
}
