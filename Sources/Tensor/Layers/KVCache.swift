/// Keys and values of past positions for incremental decoding, per layer: [B, KVH, maxLength, D]
/// buffers filled left to right. Attention of new queries reads a [B, KVH, length, D] view (no copy).
/// Used under `noGrad` (nothing here is differentiated).
public final class KVCache {
    public let maxLength: Int
    let keys: [Tensor], values: [Tensor]
    private var lengths: [Int]

    public init(layers: Int, batch: Int, kvHeads: Int, headDim: Int, maxLength: Int) {
        self.maxLength = maxLength
        keys = (0..<layers).map { _ in Tensor(zeros: [batch, kvHeads, maxLength, headDim]) }
        values = (0..<layers).map { _ in Tensor(zeros: [batch, kvHeads, maxLength, headDim]) }
        lengths = [Int](repeating: 0, count: layers)
    }

    /// Positions already stored for `layer` (the RoPE offset of the next token in that layer).
    public func length(layer: Int) -> Int { lengths.indices.contains(layer) ? lengths[layer] : 0 }

    /// Positions stored (after a full forward pass every layer agrees).
    public var length: Int { lengths.first ?? 0 }

    /// Forgets everything (or keeps the first `n` positions, e.g. a shared prompt prefix).
    public func truncate(to n: Int = 0) {
        for i in lengths.indices { lengths[i] = Swift.min(lengths[i], Swift.max(n, 0)) }
    }

    /// Appends k, v: [B, KVH, Tn, D] for `layer`; returns views of all stored keys and values.
    func append(layer: Int, k: Tensor, v: Tensor) throws -> (keys: Tensor, values: Tensor) {
        guard keys.indices.contains(layer) else { throw TensorError.invalidArgument("KV cache has no layer \(layer)") }
        let buf = keys[layer]
        let (b, h, d) = (buf.shape[0], buf.shape[1], buf.shape[3])
        let tn = k.shape.count == 4 ? k.shape[2] : -1
        guard k.shape == [b, h, tn, d], v.shape == k.shape else {
            throw TensorError.shapeMismatch("KV cache append: k \(k.shape), v \(v.shape) for cache [\(b), \(h), _, \(d)]")
        }
        let start = lengths[layer]
        guard start + tn <= maxLength else {
            throw TensorError.invalidArgument("KV cache full: \(start) + \(tn) positions exceed \(maxLength)")
        }
        for (src, dst) in [(k, buf), (v, values[layer])] {
            Tensor(storage: dst.storage, shape: [b, h, tn, d], strides: dst.strides, offset: start * d).assignNoGrad(src)
        }
        lengths[layer] = start + tn
        func view(_ t: Tensor) -> Tensor {
            Tensor(storage: t.storage, shape: [b, h, start + tn, d], strides: t.strides, offset: 0)
        }
        return (view(buf), view(values[layer]))
    }
}
