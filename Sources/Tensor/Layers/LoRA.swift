/// Low-rank adapter for a Linear layer (Hu et al. 2021): y += (alpha / r) * dropout(x) A^T B^T,
/// A: [r, in] (Kaiming-uniform), B: [out, r] (zeros, so training starts from the base model).
/// Names follow PEFT: `lora_A.weight`, `lora_B.weight` under the wrapped layer's prefix.
public final class LoRA: Module, @unchecked Sendable {
    public let a: Tensor   // [r, in]
    public let b: Tensor   // [out, r]
    public let rank: Int
    public let alpha: Float
    public let dropout: Float
    public var training = true
    public private(set) var merged = false
    private unowned let base: Linear
    private var rng: TensorRNG

    public var scale: Float { alpha / Float(rank) }

    init(base: Linear, rank: Int, alpha: Float, dropout: Float, rng: inout TensorRNG) {
        self.base = base
        self.rank = rank; self.alpha = alpha; self.dropout = dropout
        let bound = 1 / Float(base.inFeatures).squareRoot()
        a = parameter(Tensor.uniform([rank, base.inFeatures], low: -bound, high: bound, rng: &rng))
        b = parameter(Tensor(zeros: [base.outFeatures, rank]))
        self.rng = TensorRNG(seed: rng.next())
    }

    /// The adapter's contribution for x: [..., in] -> [..., out].
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let xd = x.dropout(p: dropout, training: training, rng: &rng)
        let h = try Tensor.linear(xd, weight: a)
        return try Tensor.linear(h, weight: b) * scale
    }

    public func namedParameters() -> [(String, Tensor)] { [("lora_A.weight", a), ("lora_B.weight", b)] }

    /// Folds the adapter into the base weight (W += scale B A) for inference; forward then skips it.
    public func merge() {
        guard !merged else { return }
        addDelta(sign: 1)
        merged = true
    }

    /// Undoes `merge()`.
    public func unmerge() {
        guard merged else { return }
        addDelta(sign: -1)
        merged = false
    }

    private func addDelta(sign: Float) {
        base.weight.storage.markModified()
        let opB = GemmOperand(b, batchShape: []), opA = GemmOperand(a, batchShape: [])
        Tensor.gemm(opB, transA: false, opA, transB: false, into: base.weight.data, alpha: sign * scale, beta: 1)
    }
}
