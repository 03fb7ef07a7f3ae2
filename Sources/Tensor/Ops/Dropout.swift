// Inverted dropout: zero each element with probability p and scale survivors by 1/(1-p).

extension Tensor {
    /// Identity when `training` is false or p == 0. The mask comes from `rng` (seeded, reproducible).
    public func dropout(p: Float, training: Bool, rng: inout TensorRNG) -> Tensor {
        guard training, p > 0 else { return self }
        let n = count
        let mask = Tensor(zeros: shape)
        let keep = 1 / (1 - p)
        for i in 0..<n { mask.data[i] = rng.uniform() >= p ? keep : 0 }
        let out = Tensor.zipMap(self, mask) { $0 * $1 }
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, mask) { $0 * $1 }) }
    }
}
