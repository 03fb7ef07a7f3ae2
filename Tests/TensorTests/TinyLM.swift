@testable import Tensor

/// A small Llama-style decoder used by the training and KV-cache tests:
/// embed -> [RMSNorm -> attention (RoPE, grouped KV) -> + ; RMSNorm -> SwiGLU MLP -> +] x L -> RMSNorm -> head.
final class TinyLM: Module {
    let embed: Embedding
    let blocks: [(norm1: RMSNorm, attn: SelfAttention, norm2: RMSNorm, mlp: MLP)]
    let norm: RMSNorm
    let head: Linear

    init(vocab: Int, dim: Int, layers: Int, heads: Int, kvHeads: Int, hidden: Int, seed: UInt64) {
        var rng = TensorRNG(seed: seed)
        embed = Embedding(vocab, dim, std: 0.5, rng: &rng)
        blocks = (0..<layers).map { _ in
            (RMSNorm(dim), SelfAttention(dim: dim, heads: heads, kvHeads: kvHeads, qkvBias: false, outputBias: false,
                                         ropeTheta: 10000, names: .llama, rng: &rng),
             RMSNorm(dim), MLP(dim: dim, hidden: hidden, activation: .swiGLU, bias: false, names: llamaMLPNames, rng: &rng))
        }
        norm = RMSNorm(dim)
        head = Linear(dim, vocab, bias: false, rng: &rng)
    }

    /// ids: [B, T] row-major -> logits [B, T, vocab].
    func callAsFunction(_ ids: [Int], batch: Int, cache: KVCache? = nil) throws -> Tensor {
        let t = ids.count / batch
        var x = try embed(ids, shape: [batch, t])
        for (i, b) in blocks.enumerated() {
            x = try x + b.attn(try b.norm1(x), causal: true, cache: cache, layer: i)
            x = try x + b.mlp(try b.norm2(x))
        }
        return try head(try norm(x))
    }

    func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("model.embed_tokens", embed.namedParameters())
        for (i, b) in blocks.enumerated() {
            let pre = "model.layers.\(i)."
            p += prefixed(pre + "input_layernorm", b.norm1.namedParameters())
            p += prefixed(pre + "self_attn", b.attn.namedParameters())
            p += prefixed(pre + "post_attention_layernorm", b.norm2.namedParameters())
            p += prefixed(pre + "mlp", b.mlp.namedParameters())
        }
        return p + prefixed("model.norm", norm.namedParameters()) + prefixed("lm_head", head.namedParameters())
    }
}

/// Llama's checkpoint names, which the tests' small models use (the tensor core has no default).
extension SelfAttention.Names {
    static let llama = SelfAttention.Names(query: "q_proj", key: "k_proj", value: "v_proj", output: "o_proj")
}
let llamaMLPNames = (up: "up_proj", down: "down_proj", gate: "gate_proj")
