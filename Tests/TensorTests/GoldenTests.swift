import Foundation
import XCTest
@testable import Tensor

/// Forward results against numpy references from scripts/fixtures/make_tensor_golden.py.
final class GoldenTests: XCTestCase {
    private func fixture(_ name: String) throws -> [String: Any] {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures/golden") else {
            throw TensorError.invalidArgument("missing fixture \(name).json")
        }
        let any = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dict = any as? [String: Any] else { throw TensorError.invalidArgument("fixture \(name) is not an object") }
        return dict
    }

    private func tensor(_ f: [String: Any], _ key: String) throws -> Tensor {
        guard let t = f[key] as? [String: Any], let shape = t["shape"] as? [Int], let data = t["data"] as? [Double] else {
            throw TensorError.invalidArgument("fixture field \(key)")
        }
        return try Tensor(data.map { Float($0) }, shape: shape)
    }

    private func assertClose(_ got: Tensor, _ f: [String: Any], _ key: String = "y", tol: Float = 2e-5,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let want = try tensor(f, key)
        XCTAssertEqual(got.shape, want.shape, file: file, line: line)
        for (i, (a, b)) in zip(got.toArray(), want.toArray()).enumerated() where abs(a - b) > tol * max(1, abs(b)) {
            XCTFail("element \(i): got \(a), numpy \(b)", file: file, line: line)
            return
        }
    }

    func testActivations() throws {
        for (name, op) in [("softmax", { (t: Tensor) in t.softmax() }), ("log_softmax", { $0.logSoftmax() }),
                           ("gelu_erf", { $0.gelu() }), ("gelu_tanh", { $0.geluTanh() })] {
            let f = try fixture(name)
            try assertClose(op(try tensor(f, "x")), f)
        }
    }

    func testNorms() throws {
        let ln = try fixture("layer_norm")
        try assertClose(try tensor(ln, "x").layerNorm(weight: try tensor(ln, "weight"), bias: try tensor(ln, "bias"),
                                                      eps: Float(ln["eps"] as? Double ?? 0)), ln)
        let rms = try fixture("rms_norm")
        try assertClose(try tensor(rms, "x").rmsNorm(weight: try tensor(rms, "weight"), eps: Float(rms["eps"] as? Double ?? 0)), rms)
    }

    func testAttentionWithMaskAndGroupedHeads() throws {
        let f = try fixture("attention")
        let y = try Tensor.attention(query: try tensor(f, "q"), key: try tensor(f, "k"), value: try tensor(f, "v"),
                                     causal: true, mask: try tensor(f, "mask"))
        try assertClose(y, f)
    }

    func testRope() throws {
        let f = try fixture("rope")
        let y = try tensor(f, "x").rope(theta: Float(f["theta"] as? Double ?? 0), positionOffset: f["offset"] as? Int ?? -1)
        try assertClose(y, f, tol: 1e-4)
    }

    func testCrossEntropy() throws {
        let f = try fixture("cross_entropy")
        let targets = f["targets"] as? [Int] ?? []
        let loss = try tensor(f, "logits").crossEntropy(targets: targets).item
        XCTAssertEqual(loss, Float(f["loss"] as? Double ?? .nan), accuracy: 1e-5)
    }
}
