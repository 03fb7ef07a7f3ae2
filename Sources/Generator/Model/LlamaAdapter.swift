// A PEFT LoRA adapter bound to a loaded Llama model: each adapted projection of each layer gets
//   y[n, out] += scale · (x[n, in] Aᵀ) Bᵀ          A: [r, in], B: [out, r]
// next to the base weight, which stays as it is (quantized GGUF blocks are never rewritten).
//
// PEFT adapters are trained on the Hugging Face layout. A GGUF file stores q_proj and k_proj with
// their rows permuted per head (llama.cpp's converter pairs the two rotary halves of a head as
// neighbours: GGUF row h·hd + 2i + s is HF row h·hd + s·hd/2 + i), so B's rows of those two are
// permuted the same way when the base is a GGUF file.
//
// The update's reference form is Tensor's LoRA layer (what TrainableLlama trains); an adapter it
// writes gives the same logits here (TrainableLlamaTests), and DecodeLowRank is the one-token split.

import Foundation
import Tensor

/// One low-rank update of one projection.
struct LowRankUpdate: @unchecked Sendable {
    let a: Tensor   // [r, in]
    let b: Tensor   // [out, r]
    let scale: Float

    var rank: Int { a.shape[0] }

    /// y[n, out] += scale · (x[n, in] Aᵀ) Bᵀ, the products split over `threads` when large enough.
    func add(_ x: UnsafePointer<Float>, n: Int, into y: UnsafeMutablePointer<Float>, threads: Int) {
        let r = rank, input = a.shape[1], output = b.shape[0]
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n * r) { h in
            guard let h = h.baseAddress else { return }
            // h[n, r] = x Aᵀ
            Threads.sgemm(transA: false, transB: true, m: n, n: r, k: input, alpha: 1, a: x, lda: input,
                          b: a.data, ldb: input, beta: 0, c: h, ldc: r, threads: threads)
            // y[n, out] += scale · h Bᵀ
            Threads.sgemm(transA: false, transB: true, m: n, n: output, k: r, alpha: scale, a: h, lda: r,
                          b: b.data, ldb: r, beta: 1, c: y, ldc: output, threads: threads)
        }
    }
}

/// The updates of one layer, by projection (nil where the adapter leaves it alone).
struct LayerAdapter: Sendable {
    var updates: [LayerWeightRole: LowRankUpdate] = [:]

    subscript(role: LayerWeightRole) -> LowRankUpdate? { updates[role] }
}

/// A PEFT adapter checked against a model's shapes and laid out per layer.
public struct LlamaAdapter: Sendable {
    public let name: String
    public let directory: URL
    let layers: [LayerAdapter]
    /// The largest rank of any update (PEFT gives all modules one rank unless rank_pattern says otherwise).
    let maxRank: Int

    /// Binds `peft` to a model with this configuration; every module of the adapter must be one of
    /// the model's projections with matching shapes.
    init(_ peft: PEFTAdapter, config c: LlamaConfig) throws {
        name = peft.name
        directory = peft.directory
        var layers = [LayerAdapter](repeating: LayerAdapter(), count: c.layers)
        for (module, pair) in peft.modules {
            guard let (layer, role) = Self.parse(module), layer < c.layers else {
                throw GeneratorError.invalidWeights("\(peft.directory.path): adapter module '\(module)' is not a projection of this \(c.layers)-layer Llama model (expected model.layers.N.self_attn.{q,k,v,o}_proj or model.layers.N.mlp.{gate,up,down}_proj)")
            }
            let (rows, cols) = Self.shape(of: role, config: c)
            guard pair.a.shape[1] == cols, pair.b.shape[0] == rows else {
                throw GeneratorError.invalidWeights("\(peft.directory.path): adapter module '\(module)' maps \(pair.a.shape[1]) -> \(pair.b.shape[0]) but the model's weight is [\(rows), \(cols)]")
            }
            var b = pair.b.isContiguous ? pair.b : pair.b.denseCopy()
            if c.ropeLayout == .interleaved, role == .q || role == .k {
                b = Self.interleaveRotaryRows(b, heads: role == .q ? c.heads : c.kvHeads, headDim: c.headDim)
            }
            let a = pair.a.isContiguous ? pair.a : pair.a.denseCopy()
            layers[layer].updates[role] = LowRankUpdate(a: a, b: b, scale: pair.scale)
        }
        self.layers = layers
        maxRank = layers.flatMap { $0.updates.values.map(\.rank) }.max() ?? 0
    }

    /// `model.layers.7.self_attn.q_proj` -> (7, .q)
    static func parse(_ module: String) -> (Int, LayerWeightRole)? {
        let parts = module.split(separator: ".")
        guard parts.count == 5, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]), layer >= 0 else { return nil }
        switch (parts[3], parts[4]) {
        case ("self_attn", "q_proj"): return (layer, .q)
        case ("self_attn", "k_proj"): return (layer, .k)
        case ("self_attn", "v_proj"): return (layer, .v)
        case ("self_attn", "o_proj"): return (layer, .o)
        case ("mlp", "gate_proj"): return (layer, .gate)
        case ("mlp", "up_proj"): return (layer, .up)
        case ("mlp", "down_proj"): return (layer, .down)
        default: return nil
        }
    }

    /// [rows, cols] of a projection's weight.
    static func shape(of role: LayerWeightRole, config c: LlamaConfig) -> (Int, Int) {
        let q = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        switch role {
        case .q: return (q, c.dim)
        case .k, .v: return (kv, c.dim)
        case .o: return (c.dim, q)
        case .gate, .up: return (c.hiddenDim, c.dim)
        case .down: return (c.dim, c.hiddenDim)
        case .attentionNorm, .mlpNorm: return (c.dim, 1)
        }
    }

    /// B [heads·hd, r] from HF row order to GGUF's: out[h·hd + 2i + s] = in[h·hd + s·hd/2 + i].
    static func interleaveRotaryRows(_ b: Tensor, heads: Int, headDim hd: Int) -> Tensor {
        let r = b.shape[1], half = hd / 2
        let out = Tensor(zeros: b.shape)
        for h in 0..<heads {
            for i in 0..<half {
                for s in 0..<2 {
                    let from = b.data + (h * hd + s * half + i) * r
                    (out.data + (h * hd + 2 * i + s) * r).update(from: from, count: r)
                }
            }
        }
        return out
    }
}
