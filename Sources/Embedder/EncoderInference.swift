import Dispatch
import Foundation
import Tensor

// The encoder's inference path: the same function as `encode` + `pool` + normalisation under
// noGrad, computed without padding, autograd or per-op allocation.
//
// Sequences are packed back to back (no padding rows) into groups of about `groupTokens` tokens;
// each group runs through all layers on one thread with its own workspace, groups spread over the
// threads (single-threaded BLAS per group: one owner of the cores). Per layer and group:
//   qkv = x [Wq | Wk | Wv]^T + [bq | bk | bv]          [N, 3C]: one GEMM (packed weights) or three into its columns
//   ctx = softmax(scale Q K^T) V per sequence and head  only the sequence's real tokens
//   x   = LayerNorm(x + ctx Wo^T + bo)                  bias rides in the LayerNorm pass
//   h   = GELU(x W1^T + b1)                             GELU right after its GEMM
//   x   = LayerNorm(x + h W2^T + b2)

extension BertModel {
    /// Tokens per group: large enough for efficient GEMMs, small enough to stay in cache.
    static let groupTokens = 1024
    /// Tokens in one call from which the weights are packed for the tensor core's own GEMM (AMX
    /// tiles where the CPU has them). The packed weights are kept between calls (until a weight
    /// changes), so every call uses them; tests pass Int.max for the BLAS path on the weights as they are.
    static let packedWeightsTokens = 1

    /// True when the inference path computes what the autograd path would: dense parameters,
    /// exact GELU, no LoRA adapter outside the weights.
    var supportsInferencePath: Bool {
        guard config.hiddenAct == "gelu" else { return false }
        if linearLayers().contains(where: { $0.1.lora.map { !$0.merged } ?? false }) { return false }
        return parameters().allSatisfy(\.isContiguous)
    }

    /// Sentence embeddings [B, C] of B sequences (`ids`: B rows of T, `lengths[b]` real tokens each).
    /// Weights are packed for the tensor core's GEMM when the call has `packFrom` tokens or more.
    func inferenceEmbeddings(ids: [Int], lengths: [Int], threads: Int = Threads.count,
                             groupTokens: Int = BertModel.groupTokens, packFrom: Int = BertModel.packedWeightsTokens) -> Tensor {
        let c = config.hiddenSize, t = lengths.isEmpty ? 0 : ids.count / lengths.count
        let out = Tensor(zeros: [lengths.count, c])
        // Groups of consecutive sequences, about groupTokens tokens each (a longer one alone).
        var groups: [Range<Int>] = []
        var start = 0, tokens = 0
        for (i, n) in lengths.enumerated() {
            if i > start && tokens + n > groupTokens {
                groups.append(start..<i)
                start = i; tokens = 0
            }
            tokens += n
        }
        if start < lengths.count { groups.append(start..<lengths.count) }
        let packed = lengths.reduce(0, +) >= packFrom ? packedWeights.layers(of: self, threads: threads) : nil
        let workers = Swift.max(1, Swift.min(threads, groups.count))
        let gemmThreads = Swift.max(1, threads / workers)
        let job = UncheckedSendable { (w: Int) in
            for g in stride(from: w, to: groups.count, by: workers) {
                self.workspaces.withWorkspace { ws in
                    self.encodeGroup(ids: ids, rowLength: t, lengths: lengths, sequences: groups[g], packed: packed,
                                     into: out.data, workspace: ws, threads: gemmThreads)
                }
            }
        }
        if workers == 1 { job.value(0) } else { DispatchQueue.concurrentPerform(iterations: workers) { job.value($0) } }
        return out
    }

    /// Runs the sequences `seqs` (rows of `ids`, each `rowLength` long) through the encoder and
    /// writes their pooled, normalised embeddings into rows of `out` [B, C].
    private func encodeGroup(ids: [Int], rowLength t: Int, lengths: [Int], sequences seqs: Range<Int>, packed: [PackedLayer]?,
                             into out: UnsafeMutablePointer<Float>, workspace ws: InferenceWorkspace, threads: Int) {
        let c = config.hiddenSize, hidden = config.intermediateSize, eps = config.layerNormEps
        let n = seqs.reduce(0) { $0 + lengths[$1] }                         // tokens in the group
        let longest = seqs.map { lengths[$0] }.max() ?? 0
        let x = ws.buffer(0, count: n * c)                                  // [N, C]
        let qkv = ws.buffer(1, count: n * 3 * c)                            // [N, 3C]
        let ctx = ws.buffer(2, count: n * c)                                // [N, C]
        let h = ws.buffer(3, count: n * hidden)                             // [N, 4C]
        let attentionScratch = ws.buffer(4, count: Inference.attentionScratchCount(length: longest, headDim: layers.first?.attention.headDim ?? 1))

        // x = LayerNorm(E_token[id] + E_position[j] + E_type[0])
        var row = 0
        for s in seqs {
            for j in 0..<lengths[s] {
                (x + (row + j) * c).update(from: wordEmbeddings.weight.data + ids[s * t + j] * c, count: c)
            }
            Inference.addLayerNorm(x + row * c, adding: positionEmbeddings.weight.data, yBias: tokenTypeEmbeddings.weight.data,
                                   weight: embeddingNorm.weight.data, bias: embeddingNorm.bias.data,
                                   eps: embeddingNorm.eps, rows: lengths[s], cols: c)
            row += lengths[s]
        }

        for (l, layer) in layers.enumerated() {
            let a = layer.attention
            if let p = packed?[l] {
                Inference.linear(x, rows: n, packed: p.qkv, bias: p.qkvBias.data, into: qkv, threads: threads)
            } else {
                for (i, proj) in [a.query, a.key, a.value].enumerated() {
                    Inference.linear(x, rows: n, weight: proj.weight.data, inFeatures: c, outFeatures: c,
                                     bias: proj.bias?.data, into: qkv + i * c, ldy: 3 * c, threads: threads)
                }
            }
            row = 0
            for s in seqs {
                Inference.attention(qkv: qkv + row * 3 * c, length: lengths[s], heads: a.heads, headDim: a.headDim,
                                    into: ctx + row * c, scratch: attentionScratch)
                row += lengths[s]
            }
            // h = ctx Wo^T; x = LayerNorm(x + h + bo)
            if let p = packed?[l] {
                Inference.linear(ctx, rows: n, packed: p.output, bias: nil, into: h, threads: threads)
            } else {
                Inference.linear(ctx, rows: n, weight: a.output.weight.data, inFeatures: c, outFeatures: c,
                                 bias: nil, into: h, threads: threads)
            }
            Inference.addLayerNorm(x, adding: h, yBias: a.output.bias?.data, weight: layer.attentionNorm.weight.data,
                                   bias: layer.attentionNorm.bias.data, eps: eps, rows: n, cols: c)
            // h = GELU(x W1^T + b1); ctx = h W2^T; x = LayerNorm(x + ctx + b2)
            if let p = packed?[l] {
                Inference.linear(x, rows: n, packed: p.up, bias: layer.mlp.up.bias?.data, activation: .gelu, into: h,
                                 threads: threads)
                Inference.linear(h, rows: n, packed: p.down, bias: nil, into: ctx, threads: threads)
            } else {
                Inference.linear(x, rows: n, weight: layer.mlp.up.weight.data, inFeatures: c, outFeatures: hidden,
                                 bias: layer.mlp.up.bias?.data, activation: .gelu, into: h, threads: threads)
                Inference.linear(h, rows: n, weight: layer.mlp.down.weight.data, inFeatures: hidden, outFeatures: c,
                                 bias: nil, into: ctx, threads: threads)
            }
            Inference.addLayerNorm(x, adding: ctx, yBias: layer.mlp.down.bias?.data, weight: layer.outputNorm.weight.data,
                                   bias: layer.outputNorm.bias.data, eps: eps, rows: n, cols: c)
        }

        // Pool (mean over the real tokens, or [CLS]) and normalise, into out[s].
        row = 0
        for s in seqs {
            let len = lengths[s], dst = out + s * c
            switch pooling.mode {
            case .cls:
                dst.update(from: x + row * c, count: c)
            case .mean:
                dst.update(repeating: 0, count: c)
                for j in 0..<len { let src = x + (row + j) * c; for i in 0..<c { dst[i] += src[i] } }
                let inv = 1 / Float(len)
                for i in 0..<c { dst[i] *= inv }
            }
            if pooling.normalize {
                var ss: Float = 0
                for i in 0..<c { ss += dst[i] * dst[i] }
                let inv = 1 / (ss + 1e-24).squareRoot()
                for i in 0..<c { dst[i] *= inv }
            }
            row += len
        }
    }
}

/// One layer's weights packed for the inference GEMM (Q, K and V side by side as one [3C, C]).
struct PackedLayer: @unchecked Sendable {
    let qkv: PackedMatrix, qkvBias: Tensor, output: PackedMatrix, up: PackedMatrix, down: PackedMatrix

    init(_ layer: BertLayer) {
        let a = layer.attention
        let projections = [a.query, a.key, a.value]
        qkv = PackedMatrix(stacking: projections.map(\.weight))
        qkvBias = Tensor(zeros: [projections.reduce(0) { $0 + $1.outFeatures }])
        var row = 0
        for p in projections {
            if let b = p.bias { (qkvBias.data + row).update(from: b.data, count: p.outFeatures) }
            row += p.outFeatures
        }
        output = PackedMatrix(weight: a.output.weight.data, outFeatures: a.output.outFeatures, inFeatures: a.output.inFeatures)
        up = PackedMatrix(weight: layer.mlp.up.weight.data, outFeatures: layer.mlp.up.outFeatures, inFeatures: layer.mlp.up.inFeatures)
        down = PackedMatrix(weight: layer.mlp.down.weight.data, outFeatures: layer.mlp.down.outFeatures,
                            inFeatures: layer.mlp.down.inFeatures)
    }
}

/// The encoder's weights packed for the inference GEMM, kept between calls while the weights stay as
/// they were: every use compares the versions of the tensors they were packed from (bumped by
/// optimizer steps, loading and LoRA merges), and packs again when one changed.
final class PackedWeightsCache: @unchecked Sendable {
    private let lock = NSLock()
    private var layers: [PackedLayer] = []
    private var sources: [(ObjectIdentifier, Int)] = []

    func layers(of model: BertModel, threads: Int) -> [PackedLayer] {
        let current = model.packedSources().map { (ObjectIdentifier($0), $0.version) }
        lock.lock()
        defer { lock.unlock() }
        if layers.isEmpty || !current.elementsEqual(sources, by: { $0 == $1 }) {
            layers = []   // free the stale copy before packing the new one
            layers = model.packedLayers(threads: threads)
            sources = current
        }
        return layers
    }
}

extension BertModel {
    /// The storages PackedLayer copies values from, in a fixed order.
    func packedSources() -> [TensorStorage] {
        layers.flatMap { layer -> [TensorStorage] in
            let a = layer.attention
            let linears = [a.query, a.key, a.value, a.output, layer.mlp.up, layer.mlp.down]
            return linears.map(\.weight.storage) + [a.query, a.key, a.value].compactMap { $0.bias?.storage }
        }
    }

    /// Every layer packed, the layers spread over `threads`.
    func packedLayers(threads: Int) -> [PackedLayer] {
        let slots = UncheckedSendable(UnsafeMutableBufferPointer<PackedLayer?>.allocate(capacity: layers.count))
        slots.value.initialize(repeating: nil)
        defer { _ = slots.value.deinitialize(); slots.value.deallocate() }
        Threads.parallelFor(layers.count, costPerItem: 1 << 15, threads: threads) { range in
            for l in range { slots.value[l] = PackedLayer(self.layers[l]) }
        }
        return slots.value.compactMap { $0 }
    }
}

