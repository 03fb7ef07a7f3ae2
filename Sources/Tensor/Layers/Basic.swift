/// Token embedding table [vocab, dim] (name `weight`).
public final class Embedding: Module, @unchecked Sendable {
    public let weight: Tensor

    public init(_ vocab: Int, _ dim: Int, std: Float = 0.02, rng: inout TensorRNG) {
        weight = parameter(Tensor.randn([vocab, dim], std: std, rng: &rng))
    }

    /// ids fill `shape` row-major; result: shape + [dim].
    public func callAsFunction(_ ids: [Int], shape: [Int]) throws -> Tensor {
        try Tensor.embedding(weight, ids: ids, shape: shape)
    }

    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}

/// RMSNorm (Llama): x / rms(x) * weight.
public final class RMSNorm: Module, @unchecked Sendable {
    public let weight: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-5) {
        weight = parameter(Tensor(repeating: 1, shape: [dim]))
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.rmsNorm(weight: weight, eps: eps) }
    public func namedParameters() -> [(String, Tensor)] { [("weight", weight)] }
}

/// LayerNorm (BERT): names `weight`, `bias`.
public final class LayerNorm: Module, @unchecked Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(_ dim: Int, eps: Float = 1e-12) {
        weight = parameter(Tensor(repeating: 1, shape: [dim]))
        bias = parameter(Tensor(zeros: [dim]))
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.layerNorm(weight: weight, bias: bias, eps: eps) }
    public func namedParameters() -> [(String, Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// Feed-forward block. `.swiGLU`: down(silu(gate(x)) * up(x)); `.gelu` / `.geluTanh`: down(act(up(x))).
/// `names` are the checkpoint names of the Linear layers, given by the model family (Llama:
/// up_proj, down_proj, gate_proj; BERT: "intermediate.dense", "output.dense" and no gate).
public final class MLP: Module, @unchecked Sendable {
    public enum Activation: Sendable { case gelu, geluTanh, swiGLU }
    public let activation: Activation
    public let up: Linear
    public let down: Linear
    public let gate: Linear?
    let names: (up: String, down: String, gate: String)

    public init(dim: Int, hidden: Int, activation: Activation, bias: Bool,
                names: (up: String, down: String, gate: String),
                rng: inout TensorRNG) {
        self.activation = activation
        self.names = names
        gate = activation == .swiGLU ? Linear(dim, hidden, bias: bias, rng: &rng) : nil
        up = Linear(dim, hidden, bias: bias, rng: &rng)
        down = Linear(hidden, dim, bias: bias, rng: &rng)
    }

    /// x: [..., dim] -> [..., dim]
    public func callAsFunction(_ x: Tensor) throws -> Tensor {
        switch activation {
        case .gelu: return try down(try up(x).gelu())
        case .geluTanh: return try down(try up(x).geluTanh())
        case .swiGLU:
            guard let gate else { return try down(try up(x)) }
            return try down(try gate(x).silu() * up(x))
        }
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed(names.up, up.namedParameters()) + prefixed(names.down, down.namedParameters())
        if let gate { p += prefixed(names.gate, gate.namedParameters()) }
        return p
    }
}
