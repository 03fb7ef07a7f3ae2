// Which projections of a Llama decoder get a LoRA adapter, and how big it is (PEFT's LoraConfig:
// r, lora_alpha, lora_dropout, target_modules).

import Foundation
import Tensor

public struct LoRAOptions: Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    public var dropout: Float
    /// Module names (`q_proj`, `v_proj`, …) or `all-linear` (every projection of every layer).
    public var targets: [String]
    /// The layers whose projections are adapted (nil: all), PEFT's `layers_to_transform`. Adapting
    /// only the upper layers also spares the backward pass the layers below them.
    public var layers: [Int]?

    public static let projectionNames = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [String] = ["q_proj", "v_proj"], layers: [Int]? = nil) {
        self.rank = rank; self.alpha = alpha; self.dropout = dropout; self.targets = targets; self.layers = layers
    }

    /// `"15-29"`, `"0,2,4"` or a mix, as `--lora-layers` gives it; nil for an empty text.
    public static func parseLayers(_ text: String) throws -> [Int]? {
        var layers: [Int] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            switch ends.count {
            case 1: if let l = ends[0] { layers.append(l); continue }
            case 2: if let lo = ends[0], let hi = ends[1], lo <= hi { layers += Array(lo...hi); continue }
            default: break
            }
            throw GeneratorError.invalidOptions("--lora-layers: '\(part)' is neither a layer number nor a range like 15-29")
        }
        return layers.isEmpty ? nil : Array(Set(layers)).sorted()
    }

    /// Whether layer `l` of a model with `count` layers is adapted; throws naming a layer it does not have.
    func adapts(layer l: Int, of count: Int) throws -> Bool {
        guard let layers else { return true }
        if let bad = layers.first(where: { $0 < 0 || $0 >= count }) {
            throw GeneratorError.invalidOptions("--lora-layers: the model has layers 0-\(count - 1), not \(bad)")
        }
        return layers.contains(l)
    }

    /// `"q_proj,v_proj"` or `"all-linear"` as the command line gives it.
    public static func parseTargets(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The projection names the targets select, in model order; throws naming an unknown one.
    public func selectedProjections() throws -> [String] {
        guard rank > 0 else { throw GeneratorError.invalidOptions("--lora-r must be positive (got \(rank))") }
        guard alpha > 0, alpha.isFinite else { throw GeneratorError.invalidOptions("--lora-alpha must be positive (got \(alpha))") }
        guard dropout >= 0, dropout < 1 else { throw GeneratorError.invalidOptions("--lora-dropout must be in [0, 1) (got \(dropout))") }
        if targets.contains("all-linear") { return Self.projectionNames }
        for t in targets where !Self.projectionNames.contains(t) {
            throw GeneratorError.invalidOptions("LoRA target '\(t)' is not a projection of a Llama layer (choose from \(Self.projectionNames.joined(separator: ", ")) or all-linear)")
        }
        guard !targets.isEmpty else { throw GeneratorError.invalidOptions("no LoRA targets given") }
        return Self.projectionNames.filter { targets.contains($0) }
    }
}

extension LayerWeightRole {
    /// The Hugging Face module name of a projection (`q_proj`, …); nil for the norms.
    var projectionName: String? {
        switch self {
        case .q: return "q_proj"
        case .k: return "k_proj"
        case .v: return "v_proj"
        case .o: return "o_proj"
        case .gate: return "gate_proj"
        case .up: return "up_proj"
        case .down: return "down_proj"
        case .attentionNorm, .mlpNorm: return nil
        }
    }

    /// `model.layers.N.self_attn.q_proj` (PEFT's module path, without `base_model.model.`).
    func modulePath(layer: Int) -> String {
        let parent = (self == .gate || self == .up || self == .down) ? "mlp" : "self_attn"
        return "model.layers.\(layer).\(parent).\(projectionName ?? "")"
    }
}

/// A projection of the trainable model: the frozen base weight W (GGUF blocks or dense) and,
/// when targeted, a trainable LoRA update beside it; optionally a frozen reference update (the
/// adapter training started from, which DPO's reference model keeps).
final class AdaptedProjection: @unchecked Sendable {
    let role: LayerWeightRole
    let layer: Int
    let path: String
    let base: FrozenMatrix
    /// How products with `base` are computed (TrainableLlama.frozenPrecision).
    var precision: FrozenPrecision = .float32
    var lora: LoRA?
    var reference: LoRA?
    /// Full-parameter training: the trained copy of W (FullParameters.swift), which the policy uses
    /// instead of the frozen base.
    var full: Tensor?
    /// (IA)³'s trained scaling vector (IA3.swift): [out], or [in] for down_proj; and the adapter
    /// training started from, frozen, for the reference.
    var ia3: Tensor?, ia3Start: Tensor?

    init(role: LayerWeightRole, layer: Int, base: FrozenMatrix) {
        self.role = role
        self.layer = layer
        path = role.modulePath(layer: layer)
        self.base = base
    }

    /// x [..., in] -> [..., out]: x Wᵀ + the policy's update, or the reference's.
    func callAsFunction(_ x: Tensor, mode: AdapterMode) throws -> Tensor {
        if mode == .policy, let full { return try Tensor.linear(x, weight: full) }
        if let scale = mode == .policy ? ia3 : mode == .reference ? ia3Start : nil {
            return try IA3Target.scalesInput(role) ? Tensor.linear(x * scale, frozen: base, precision: precision)  // [..., in] ⊙ [in]
                                                   : Tensor.linear(x, frozen: base, precision: precision) * scale  // [..., out] ⊙ [out]
        }
        let y = try Tensor.linear(x, frozen: base, precision: precision)
        let update: LoRA?
        switch mode {
        case .policy: update = lora
        case .reference: update = reference
        case .off: update = nil
        }
        guard let update else { return y }
        return try y + update(x)
    }
}

/// Which low-rank updates a forward pass applies.
public enum AdapterMode: Sendable {
    /// The adapter being trained.
    case policy
    /// The adapter training started from (none: the base model), frozen.
    case reference
    /// The base model alone.
    case off
}

extension LlamaAdapter {
    /// B [heads·hd, r] from GGUF's row order back to Hugging Face's (the inverse of
    /// `interleaveRotaryRows`): out[h·hd + s·hd/2 + i] = in[h·hd + 2i + s].
    static func halveRotaryRows(_ b: Tensor, heads: Int, headDim hd: Int) -> Tensor {
        let r = b.shape[1], half = hd / 2
        let src = b.denseIfNeeded
        let out = Tensor(zeros: b.shape)
        for h in 0..<heads {
            for i in 0..<half {
                for s in 0..<2 {
                    (out.data + (h * hd + s * half + i) * r).update(from: src.data + (h * hd + 2 * i + s) * r, count: r)
                }
            }
        }
        return out
    }
}
