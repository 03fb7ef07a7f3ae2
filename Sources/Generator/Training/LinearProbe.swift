// A linear probe on a decoder's hidden states: logistic regression, p(yes | h) = σ(w·h + b).
//
// Fitted on the tensor core, full batch: the features are standardised (each dimension to mean 0,
// variance 1 over the fit set, so one L2 weight suits every layer), two-class logits
// z = x̂ W + c ([N, C] · [C, 2] + [2]) go through the cross-entropy, plus l2 · ΣW² (which is
// l2/2 · |w|² on the folded w below), and AdamW steps (no decay of its own, cosine schedule).
// Afterwards the standardisation and the two columns are folded into one weight vector and bias
// over the raw hidden state, so applying the probe is one dot product:
//   w = (W₁ − W₀) / σ,  b = (c₁ − c₀) − Σ μ (W₁ − W₀) / σ

import Foundation
import Tensor

public struct LinearProbe: Codable, Sendable, Equatable {
    /// [C], over the raw hidden state.
    public var weights: [Float]
    public var bias: Float

    public init(weights: [Float], bias: Float) {
        self.weights = weights; self.bias = bias
    }

    /// The log-odds of "yes" for hidden state `h` ([C]).
    public func score(_ h: [Float]) throws -> Float {
        guard h.count == weights.count else {
            throw GeneratorError.invalidOptions("probe over \(weights.count) dimensions given a hidden state of \(h.count)")
        }
        var s = Double(bias)
        for i in 0..<h.count { s += Double(weights[i]) * Double(h[i]) }
        return Float(s)
    }

    /// Fits the probe to `features` ([N][C]) labelled `labels` (true = yes); deterministic.
    public static func fit(features: [[Float]], labels: [Bool], l2: Float = 0.2, steps: Int = 1000,
                           learningRate: Float = 0.05) throws -> LinearProbe {
        let n = features.count
        guard n >= 2, let c = features.first?.count, c > 0 else {
            throw GeneratorError.invalidOptions("a probe needs at least two examples with features")
        }
        guard labels.count == n else { throw GeneratorError.invalidOptions("\(labels.count) labels for \(n) examples") }
        guard labels.contains(true), labels.contains(false) else {
            throw GeneratorError.invalidOptions("a probe needs examples of both kinds")
        }
        if let bad = features.firstIndex(where: { $0.count != c }) {
            throw GeneratorError.invalidOptions("example \(bad) has \(features[bad].count) features, the first has \(c)")
        }
        guard l2 >= 0, steps > 0, learningRate > 0 else { throw GeneratorError.invalidOptions("probe fit: l2 ≥ 0, steps > 0, learning rate > 0") }

        // μ, σ per dimension                                             [C]
        var mean = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        for row in features { for j in 0..<c { mean[j] += Double(row[j]); sq[j] += Double(row[j]) * Double(row[j]) } }
        let sd = (0..<c).map { j -> Double in
            mean[j] /= Double(n)
            return (max(sq[j] / Double(n) - mean[j] * mean[j], 0)).squareRoot() + 1e-6
        }
        var standardised = [Float](repeating: 0, count: n * c)
        for (i, row) in features.enumerated() {
            for j in 0..<c { standardised[i * c + j] = Float((Double(row[j]) - mean[j]) / sd[j]) }
        }
        let x = try Tensor(standardised, shape: [n, c])                   // [N, C]
        let targets = labels.map { $0 ? 1 : 0 }
        let w = Tensor(zeros: [c, 2], requiresGrad: true)                  // [C, 2]
        let b = Tensor(zeros: [2], requiresGrad: true)                     // [2]
        let optimizer = AdamW(parameters: [w, b], learningRate: learningRate, weightDecay: 0)
        for step in 0..<steps {
            // cosine decay to 0, so the full-batch steps settle on the optimum instead of circling it
            optimizer.learningRate = learningRate * 0.5 * (1 + Float(Foundation.cos(Double.pi * Double(step) / Double(steps))))
            w.zeroGrad(); b.zeroGrad()
            let logits = try x.matmul(w) + b                               // [N, 2]
            let loss = try logits.crossEntropy(targets: targets) + w.square().sum() * l2
            loss.backward()
            optimizer.step()
        }

        let wv = w.toArray(), bv = b.toArray()                             // [C·2] row-major, [2]
        var weights = [Float](repeating: 0, count: c)
        var bias = Double(bv[1] - bv[0])
        for j in 0..<c {
            let d = Double(wv[j * 2 + 1] - wv[j * 2]) / sd[j]
            weights[j] = Float(d)
            bias -= mean[j] * d
        }
        return LinearProbe(weights: weights, bias: Float(bias))
    }
}
