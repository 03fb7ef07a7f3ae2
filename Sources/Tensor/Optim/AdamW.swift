import Foundation

/// AdamW (Loshchilov & Hutter): Adam with bias correction and decoupled weight decay
/// (p -= lr * wd * p, separate from the adaptive step). By default decay applies only to
/// parameters of rank >= 2 (matrices, embeddings), not to biases and norm weights.
public final class AdamW {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public let decayOnlyMatrices: Bool
    public private(set) var stepCount = 0
    /// First and second moment estimates, one per parameter (same shapes), for checkpoints.
    public private(set) var m: [Tensor], v: [Tensor]

    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0.01, decayOnlyMatrices: Bool = true) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        self.decayOnlyMatrices = decayOnlyMatrices
        m = parameters.map { Tensor(zeros: $0.shape) }
        v = parameters.map { Tensor(zeros: $0.shape) }
    }

    /// One update from the accumulated gradients (parameters without a gradient are skipped).
    public func step() {
        stepCount += 1
        let t = Float(stepCount)
        // Bias corrections folded into the step: lr_t = lr / c1, and sqrt(v / c2) = sqrt(v) / sqrt(c2).
        let c1 = 1 - Foundation.pow(beta1, t), c2 = 1 - Foundation.pow(beta2, t)
        let stepSize = learningRate / c1, invSqrtC2 = 1 / c2.squareRoot()
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = eps
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            let decay = (decayOnlyMatrices && p.rank < 2) ? 0 : lr * weightDecay
            p.storage.markModified()
            let pp = p.data, pg = g.data, pm = m[i].data, pv = v[i].data
            Threads.parallelFor(p.count, costPerItem: 8) { r in
                for j in r {
                    pp[j] -= decay * pp[j]
                    pm[j] = b1 * pm[j] + (1 - b1) * pg[j]
                    pv[j] = b2 * pv[j] + (1 - b2) * pg[j] * pg[j]
                    pp[j] -= stepSize * pm[j] / (pv[j].squareRoot() * invSqrtC2 + eps)
                }
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// The moments named `m.<name>` / `v.<name>` after the parameters' `names` (in parameter order).
    public func state(names: [String]) -> [(String, Tensor)] {
        zip(names, zip(m, v)).flatMap { name, mv in [("m." + name, mv.0), ("v." + name, mv.1)] }
    }

    /// Continues from a saved state: the step count and each moment read by `tensor(name)` (named
    /// as `state(names:)` writes them). Throws naming a moment whose shape differs.
    public func restore(step: Int, names: [String], from tensor: (String) throws -> Tensor) throws {
        guard names.count == parameters.count, step >= 0 else {
            throw TensorError.invalidArgument("AdamW restore: \(names.count) names for \(parameters.count) parameters, step \(step)")
        }
        for (i, name) in names.enumerated() {
            for (key, dst) in [("m." + name, m[i]), ("v." + name, v[i])] {
                let src = try tensor(key)
                guard src.shape == dst.shape else {
                    throw TensorError.checkpoint("optimizer state \(key): shape \(src.shape), parameter has \(dst.shape)")
                }
                dst.assignNoGrad(src)
            }
        }
        stepCount = step
    }
}

/// SGD with optional momentum (PyTorch form: buf = mu buf + g; p -= lr buf) and L2 weight decay.
public final class SGD {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    private var buffers: [Tensor]

    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay
        buffers = parameters.map { Tensor(zeros: $0.shape) }
    }

    public func step() {
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            p.storage.markModified()
            let pp = p.data, pg = g.data, pb = buffers[i].data
            for j in 0..<p.count {
                let gj = pg[j] + weightDecay * pp[j]
                pb[j] = momentum * pb[j] + gj
                pp[j] -= learningRate * (momentum == 0 ? gj : pb[j])
            }
        }
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        for j in 0..<g.count { total += Double(g.data[j]) * Double(g.data[j]) }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm && norm > 0 {
        let s = maxNorm / (norm + 1e-6)
        for p in parameters {
            guard let g = p.grad else { continue }
            for j in 0..<g.count { g.data[j] *= s }
        }
    }
    return norm
}
