import Foundation

/// y = x W^T + b with W: [out, in] as in PyTorch / HF checkpoints. Optionally carries a LoRA adapter.
public final class Linear: Module, @unchecked Sendable {
    public let weight: Tensor     // [out, in]
    public let bias: Tensor?      // [out]
    public var lora: LoRA?
    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// Kaiming-uniform init as PyTorch's nn.Linear: U(-1/sqrt(in), 1/sqrt(in)).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout TensorRNG) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = parameter(Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, rng: &rng))
        self.bias = bias ? parameter(Tensor.uniform([outFeatures], low: -bound, high: bound, rng: &rng)) : nil
    }

    /// x: [..., in] -> [..., out]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        let y = try Tensor.linear(x, weight: weight, bias: bias)
        guard let lora, !lora.merged else { return y }
        return try y + lora(x)
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p: [(String, Tensor)] = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        if let lora { p += lora.namedParameters() }
        return p
    }

    /// Adds a LoRA adapter and freezes the base weight and bias.
    public func enableLoRA(rank: Int, alpha: Float, dropout: Float = 0, rng: inout TensorRNG) {
        lora = LoRA(base: self, rank: rank, alpha: alpha, dropout: dropout, rng: &rng)
        weight.requiresGrad = false
        bias?.requiresGrad = false
    }
}
