import Tensor

// BERT (Devlin et al., 2018) as a sentence encoder (Reimers & Gurevych, 2019):
//
//   x = LayerNorm(E_token[ids] + E_position[0..<T] + E_type[0])          // [B, T, C]
//   for each of N layers (post-norm):
//       x = LayerNorm(x + Attention(x, padding mask))                      // [B, T, C]
//       x = LayerNorm(x + W2 GELU(W1 x))                                   // [B, T, C]
//   s = mean of x over the non-padding tokens (or x[:, 0], the [CLS] token) // [B, C]
//   e = s / |s|                                                            // [B, C]
//
// Parameter names are the checkpoint's own (`embeddings.word_embeddings.weight`,
// `encoder.layer.3.attention.self.query.weight`, ...), so a Hugging Face folder loads by name.

/// One post-norm transformer layer: `attention.*`, `intermediate.dense`, `output.dense`, `output.LayerNorm`.
public final class BertLayer: Module {
    public let attention: SelfAttention      // attention.self.{query,key,value}, attention.output.dense
    public let attentionNorm: LayerNorm      // attention.output.LayerNorm
    public let mlp: MLP                      // intermediate.dense, output.dense
    public let outputNorm: LayerNorm         // output.LayerNorm

    init(_ config: BertConfig, rng: inout TensorRNG) {
        let c = config.hiddenSize
        attention = SelfAttention(dim: c, heads: config.heads, qkvBias: true, outputBias: true, names: .bert, rng: &rng)
        attentionNorm = LayerNorm(c, eps: config.layerNormEps)
        mlp = MLP(dim: c, hidden: config.intermediateSize, activation: config.hiddenAct == "gelu" ? .gelu : .geluTanh,
                  bias: true, names: ("intermediate.dense", "output.dense", ""), rng: &rng)
        outputNorm = LayerNorm(c, eps: config.layerNormEps)
    }

    /// x: [B, T, C], mask: [B, 1, 1, T] additive (0 for tokens, -inf for padding) -> [B, T, C]
    /// (Inference normally takes EncoderInference.swift's path, which computes the same.)
    func callAsFunction(_ x: Tensor, mask: Tensor) throws -> Tensor {
        let a = try attentionNorm(try x + attention(x, mask: mask, causal: false))   // [B, T, C]
        return try outputNorm(try a + mlp(a))                                        // [B, T, C]
    }

    public func namedParameters() -> [(String, Tensor)] {
        prefixed("attention", attention.namedParameters())
            + prefixed("attention.output.LayerNorm", attentionNorm.namedParameters())
            + mlp.namedParameters()
            + prefixed("output.LayerNorm", outputNorm.namedParameters())
    }
}

/// The encoder: embeddings, N layers, pooling, normalisation.
public final class BertModel: Module {
    public let config: BertConfig
    public let pooling: PoolingConfig
    public let wordEmbeddings: Embedding      // [V, C]  embeddings.word_embeddings
    public let positionEmbeddings: Embedding  // [P, C]  embeddings.position_embeddings
    public let tokenTypeEmbeddings: Embedding // [2, C]  embeddings.token_type_embeddings
    public let embeddingNorm: LayerNorm       //         embeddings.LayerNorm
    public let layers: [BertLayer]            //         encoder.layer.N
    /// Scratch memory of the inference path, reused across calls.
    let workspaces = WorkspacePool()
    /// The weights packed for the inference path's GEMM, kept while they do not change.
    let packedWeights = PackedWeightsCache()

    /// A model with random weights (BERT's initialisation: N(0, 0.02) embeddings, PyTorch Linear init).
    public convenience init(config: BertConfig, pooling: PoolingConfig = PoolingConfig(), seed: UInt64 = 0) {
        self.init(config: config, pooling: pooling, rng: TensorRNG(seed: seed))
    }

    /// A model whose weights are all zero until `loadWeights` fills them (no random initialisation).
    public static func unloaded(config: BertConfig, pooling: PoolingConfig = PoolingConfig()) -> BertModel {
        BertModel(config: config, pooling: pooling, rng: .placeholder)
    }

    private init(config: BertConfig, pooling: PoolingConfig, rng initial: TensorRNG) {
        var rng = initial
        self.config = config
        self.pooling = pooling
        wordEmbeddings = Embedding(config.vocabSize, config.hiddenSize, rng: &rng)
        positionEmbeddings = Embedding(config.maxPositions, config.hiddenSize, rng: &rng)
        tokenTypeEmbeddings = Embedding(config.typeVocabSize, config.hiddenSize, rng: &rng)
        embeddingNorm = LayerNorm(config.hiddenSize, eps: config.layerNormEps)
        layers = (0..<config.layers).map { _ in BertLayer(config, rng: &rng) }
    }

    public var dimension: Int { config.hiddenSize }

    /// Sentence embeddings of a padded batch. `ids`: B rows of T ids each (row-major, padding at
    /// the end of each row); `lengths[b]`: the real tokens of row b (>= 1). Result: [B, C].
    public func callAsFunction(ids: [Int], lengths: [Int]) throws -> Tensor {
        let b = lengths.count
        guard b > 0, ids.count % b == 0 else {
            throw EmbedderError.invalidArgument("\(ids.count) ids for a batch of \(b) rows")
        }
        let t = ids.count / b
        guard t <= config.maxPositions else {
            throw EmbedderError.invalidArgument("\(t) tokens exceed max_position_embeddings \(config.maxPositions)")
        }
        guard lengths.allSatisfy({ $0 >= 1 && $0 <= t }) else {
            throw EmbedderError.invalidArgument("row lengths \(lengths) must lie in 1...\(t)")
        }
        // The inference path reads embedding rows unchecked: an id beyond the table (a tokenizer
        // of another model) is an error here, as the autograd path's Embedding makes it.
        let vocab = wordEmbeddings.weight.shape[0]
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw EmbedderError.invalidArgument("token id \(bad) is outside the model's vocabulary of \(vocab) (a tokenizer of another model?)")
        }
        if !GradMode.isEnabled && supportsInferencePath {
            return inferenceEmbeddings(ids: ids, lengths: lengths)
        }
        let hidden = try encode(ids: ids, batch: b, length: t, lengths: lengths)   // [B, T, C]
        let pooled = try pool(hidden, lengths: lengths)                            // [B, C]
        return pooling.normalize ? try pooled.l2NormalizedRows() : pooled
    }

    /// Token vectors of the last layer: [B, T, C].
    func encode(ids: [Int], batch b: Int, length t: Int, lengths: [Int]) throws -> Tensor {
        let words = try wordEmbeddings(ids, shape: [b, t])                    // [B, T, C]
        let positions = try positionEmbeddings(Array(0..<t), shape: [1, t])   // [1, T, C]
        let types = try tokenTypeEmbeddings([0], shape: [1])                  // [1, C] (one segment)
        var x = try embeddingNorm(try words + positions + types)              // [B, T, C]
        let mask = paddingMask(lengths: lengths, length: t)                   // [B, 1, 1, T]
        for layer in layers { x = try layer(x, mask: mask) }
        return x
    }

    /// Additive attention mask: 0 where a key is a real token, -inf where it is padding.
    func paddingMask(lengths: [Int], length t: Int) -> Tensor {
        let mask = Tensor(zeros: [lengths.count, 1, 1, t])
        for (row, n) in lengths.enumerated() where n < t {
            for j in n..<t { mask.data[row * t + j] = -.infinity }
        }
        return mask
    }

    /// [B, T, C] -> [B, C]: mean over each row's real tokens, or the first ([CLS]) token.
    func pool(_ hidden: Tensor, lengths: [Int]) throws -> Tensor {
        let (b, t, c) = (hidden.shape[0], hidden.shape[1], hidden.shape[2])
        switch pooling.mode {
        case .cls:
            return try hidden.slice(axis: 1, 0..<1).reshape([b, c])
        case .mean:
            let weights = Tensor(zeros: [b, t, 1])   // 1 / n for the n real tokens, 0 for padding
            for (row, n) in lengths.enumerated() {
                for j in 0..<n { weights.data[row * t + j] = 1 / Float(n) }
            }
            return try (hidden * weights).sum(axis: 1)   // [B, C]
        }
    }

    /// Every Linear layer with its checkpoint name (where LoRA adapters go).
    public func linearLayers() -> [(String, Linear)] {
        layers.enumerated().flatMap { i, layer -> [(String, Linear)] in
            let a = layer.attention, p = "encoder.layer.\(i)."
            return [(p + "attention.self.query", a.query), (p + "attention.self.key", a.key),
                    (p + "attention.self.value", a.value), (p + "attention.output.dense", a.output),
                    (p + "intermediate.dense", layer.mlp.up), (p + "output.dense", layer.mlp.down)]
        }
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("embeddings.word_embeddings", wordEmbeddings.namedParameters())
            + prefixed("embeddings.position_embeddings", positionEmbeddings.namedParameters())
            + prefixed("embeddings.token_type_embeddings", tokenTypeEmbeddings.namedParameters())
            + prefixed("embeddings.LayerNorm", embeddingNorm.namedParameters())
        for (i, layer) in layers.enumerated() { p += prefixed("encoder.layer.\(i)", layer.namedParameters()) }
        return p
    }
}

extension Tensor {
    /// Each row divided by its L2 norm (torch.nn.functional.normalize, eps 1e-12). x: [B, C] -> [B, C]
    func l2NormalizedRows() throws -> Tensor {
        let norm = (try square().sum(axis: -1, keepDim: true) + 1e-24).sqrt()   // [B, 1]
        return try self / norm
    }
}

extension SelfAttention.Names {
    /// BERT's names for the attention projections (under `attention.`).
    static let bert = SelfAttention.Names(query: "self.query", key: "self.key", value: "self.value", output: "output.dense")
}
