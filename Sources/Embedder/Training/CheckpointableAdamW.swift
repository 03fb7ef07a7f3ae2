import Foundation
import Tensor

/// AdamW with the same update as Tensor's `AdamW` (bias-corrected moments, decoupled decay on
/// matrices only), but whose moments and step count can be saved and restored, so a resumed run
/// continues exactly. Tensor's AdamW keeps them private; this is the stop-gap until it exposes them.
final class CheckpointableAdamW {
    let parameters: [Tensor]
    var learningRate: Float
    let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    let weightDecay: Float
    private(set) var stepCount = 0
    private(set) var m: [Tensor], v: [Tensor]

    init(parameters: [Tensor], learningRate: Float, weightDecay: Float) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
    }

    func step() {
        stepCount += 1
        let t = Float(stepCount)
        let c1 = 1 - Foundation.pow(beta1, t), c2 = 1 - Foundation.pow(beta2, t)
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            let decay = p.rank < 2 ? 0 : learningRate * weightDecay
            let pp = p.data, pg = g.data, pm = m[i].data, pv = v[i].data
            for j in 0..<p.count {
                pp[j] -= decay * pp[j]
                pm[j] = beta1 * pm[j] + (1 - beta1) * pg[j]
                pv[j] = beta2 * pv[j] + (1 - beta2) * pg[j] * pg[j]
                pp[j] -= learningRate * (pm[j] / c1) / ((pv[j] / c2).squareRoot() + eps)
            }
        }
    }

    func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Moments named `m.<name>` / `v.<name>` after the parameters' names.
    func state(names: [String]) -> [(String, Tensor)] {
        zip(names, zip(m, v)).flatMap { name, mv in [("m." + name, mv.0), ("v." + name, mv.1)] }
    }

    func restore(step: Int, from tensors: (String) throws -> Tensor, names: [String]) throws {
        for (i, name) in names.enumerated() {
            try m[i].copyValues(from: try tensors("m." + name))
            try v[i].copyValues(from: try tensors("v." + name))
        }
        stepCount = step
    }
}
