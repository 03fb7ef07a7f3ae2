/// Multi-head self-attention with grouped KV heads (H query heads share KVH key/value heads),
/// optional RoPE, optional KV cache.
public final class SelfAttention: Module, @unchecked Sendable {
    /// Checkpoint names of the four projections (each model family names its own: the tensor core
    /// knows no checkpoint layout).
    public struct Names: Sendable {
        public var query, key, value, output: String
        public init(query: String, key: String, value: String, output: String) {
            self.query = query; self.key = key; self.value = value; self.output = output
        }
    }

    public let heads: Int, kvHeads: Int, headDim: Int
    public let ropeTheta: Float?
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let names: Names

    public init(dim: Int, heads: Int, kvHeads: Int? = nil, headDim: Int? = nil, qkvBias: Bool, outputBias: Bool,
                ropeTheta: Float? = nil, names: Names, rng: inout TensorRNG) {
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.headDim = headDim ?? dim / heads
        self.ropeTheta = ropeTheta
        self.names = names
        query = Linear(dim, heads * self.headDim, bias: qkvBias, rng: &rng)
        key = Linear(dim, self.kvHeads * self.headDim, bias: qkvBias, rng: &rng)
        value = Linear(dim, self.kvHeads * self.headDim, bias: qkvBias, rng: &rng)
        output = Linear(heads * self.headDim, dim, bias: outputBias, rng: &rng)
    }

    /// x: [B, T, C] -> [B, T, C]. `mask` is additive, broadcast to [B, H, T, Tk] (e.g. padding
    /// [B, 1, 1, Tk]). With `cache`, this call's keys/values are appended for `layer` and the
    /// queries attend over everything cached (RoPE positions continue from the cache length).
    public func callAsFunction(_ x: Tensor, mask: Tensor? = nil, causal: Bool, cache: KVCache? = nil, layer: Int = 0) throws -> Tensor {
        guard x.rank == 3 else { throw TensorError.shapeMismatch("attention: input must be [B, T, C], got \(x.shape)") }
        let (b, t) = (x.shape[0], x.shape[1])
        let start = cache?.length(layer: layer) ?? 0
        // [B, T, H*D] -> [B, H, T, D] (views)
        var q = try query(x).reshape([b, t, heads, headDim]).permute([0, 2, 1, 3])
        var k = try key(x).reshape([b, t, kvHeads, headDim]).permute([0, 2, 1, 3])
        var v = try value(x).reshape([b, t, kvHeads, headDim]).permute([0, 2, 1, 3])
        if let theta = ropeTheta {
            q = try q.rope(theta: theta, positionOffset: start)
            k = try k.rope(theta: theta, positionOffset: start)
        }
        if let cache { (k, v) = try cache.append(layer: layer, k: k, v: v) }
        let y = try Tensor.attention(query: q, key: k, value: v, causal: causal, mask: mask)  // [B, H, T, D]
        return try output(try y.permute([0, 2, 1, 3]).contiguous().reshape([b, t, heads * headDim]))
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed(names.query, query.namedParameters()) + prefixed(names.key, key.namedParameters())
            + prefixed(names.value, value.namedParameters()) + prefixed(names.output, output.namedParameters())
    }
}
