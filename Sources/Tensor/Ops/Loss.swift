import Foundation

// Cross-entropy over the last axis, fused with log-softmax.

extension Tensor {
    /// Mean over non-ignored rows of -log softmax(logits)[target]. logits: [..., V] with one target
    /// per row; rows whose target is `ignoreIndex` contribute nothing (0 when all are ignored).
    public func crossEntropy(targets: [Int], ignoreIndex: Int = -100) throws -> Tensor {
        guard rank >= 1, let v = shape.last, v > 0 else { throw TensorError.shapeMismatch("crossEntropy: logits \(shape)") }
        let rows = count / v
        guard targets.count == rows else {
            throw TensorError.shapeMismatch("crossEntropy: \(targets.count) targets for logits \(shape)")
        }
        if let bad = targets.first(where: { $0 != ignoreIndex && ($0 < 0 || $0 >= v) }) {
            throw TensorError.invalidArgument("crossEntropy: target \(bad) out of range 0..<\(v)")
        }
        let x = contiguousData()
        let logp = Tensor(zeros: [rows, v])
        Tensor.forEachLastAxisRow(x, logp) { src, dst, n in Tensor.logSoftmaxRow(src, dst, n) }
        var total: Double = 0
        var used = 0
        for (r, t) in targets.enumerated() where t != ignoreIndex {
            total -= Double(logp.data[r * v + t]); used += 1
        }
        let out = Tensor(scalar: used == 0 ? 0 : Float(total / Double(used)))
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            // d/dlogits = (softmax - onehot) / used, for non-ignored rows
            let gx = Tensor(zeros: inShape)
            guard used > 0 else { receiveGrad(gx); return }
            let scale = g.data[0] / Float(used)
            for (r, t) in targets.enumerated() where t != ignoreIndex {
                let lp = logp.data + r * v, dst = gx.data + r * v
                for i in 0..<v { dst[i] = Foundation.exp(lp[i]) * scale }
                dst[t] -= scale
            }
            receiveGrad(gx, owned: true)
        }
    }
}
