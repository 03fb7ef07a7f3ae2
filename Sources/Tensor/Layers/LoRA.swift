/// Low-rank adapter for a Linear layer (Hu et al. 2021): y += (alpha / r) * dropout(x) A^T B^T,
/// A: [r, in] (Kaiming-uniform), B: [out, r] (zeros, so training starts from the base model).
/// Names follow PEFT: `lora_A.weight`, `lora_B.weight` under the wrapped layer's prefix.
/// The one training-side form of the update: Linear layers carry it, and so does the generator's
/// trainable Llama over its frozen (possibly quantized) projections (`init(inFeatures:…)`).
public final class LoRA: Module, @unchecked Sendable {
    public let a: Tensor   // [r, in]
    public let b: Tensor   // [out, r]
    public let rank: Int
    public let alpha: Float
    public let dropout: Float
    public var training = true
    public private(set) var merged = false
    /// The layer `merge()` folds into (nil for an adapter over a frozen weight: no merge).
    private weak var base: Linear?
    /// Draws the dropout masks; reseed it to replay a forward pass exactly (activation checkpointing).
    public var rng: TensorRNG

    public var scale: Float { alpha / Float(rank) }

    init(base: Linear, rank: Int, alpha: Float, dropout: Float, rng: inout TensorRNG) {
        self.base = base
        self.rank = rank; self.alpha = alpha; self.dropout = dropout
        let bound = 1 / Float(base.inFeatures).squareRoot()
        a = parameter(Tensor.uniform([rank, base.inFeatures], low: -bound, high: bound, rng: &rng))
        b = parameter(Tensor(zeros: [base.outFeatures, rank]))
        self.rng = TensorRNG(seed: rng.next())
    }

    /// An adapter for a [outFeatures, inFeatures] weight held elsewhere (frozen): A as PEFT
    /// initialises it (Kaiming-uniform with a = √5: U(±1/√in)), B zero.
    public init(inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout: Float, rng: inout TensorRNG) {
        self.base = nil
        self.rank = rank; self.alpha = alpha; self.dropout = dropout
        let bound = 1 / Float(inFeatures).squareRoot()
        a = parameter(Tensor.uniform([rank, inFeatures], low: -bound, high: bound, rng: &rng))
        b = parameter(Tensor(zeros: [outFeatures, rank]))
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
        guard !merged, base != nil else { return }
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
        guard let base else { return }
        base.weight.storage.markModified()
        let opB = GemmOperand(b, batchShape: []), opA = GemmOperand(a, batchShape: [])
        Tensor.gemm(opB, transA: false, opA, transB: false, into: base.weight.data, alpha: sign * scale, beta: 1)
    }
}
