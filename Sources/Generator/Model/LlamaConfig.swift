// Hyper-parameters of a Llama-family decoder, read from GGUF metadata (`llama.*` keys) or from a
// Hugging Face config.json.

import Foundation
import Tensor
import Tokenizers

public struct LlamaConfig: Sendable, Equatable {
    public var vocabSize: Int
    /// Width of the residual stream (embedding_length / hidden_size).
    public var dim: Int
    /// Width of the MLP (feed_forward_length / intermediate_size).
    public var hiddenDim: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    /// Components of each head that RoPE rotates (usually headDim).
    public var rotaryDim: Int
    public var ropeTheta: Float
    public var rmsNormEps: Float
    public var contextLength: Int
    /// The output head is the token embedding (no separate `output.weight` / `lm_head.weight`).
    public var tiedEmbeddings: Bool
    /// Pairing of RoPE components implied by the checkpoint's Q/K row order.
    public var ropeLayout: RopeLayout

    public init(vocabSize: Int, dim: Int, hiddenDim: Int, layers: Int, heads: Int, kvHeads: Int,
                headDim: Int? = nil, rotaryDim: Int? = nil, ropeTheta: Float = 10000, rmsNormEps: Float = 1e-5,
                contextLength: Int, tiedEmbeddings: Bool, ropeLayout: RopeLayout) {
        self.vocabSize = vocabSize
        self.dim = dim
        self.hiddenDim = hiddenDim
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim ?? (heads > 0 ? dim / heads : 0)
        self.rotaryDim = rotaryDim ?? self.headDim
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.contextLength = contextLength
        self.tiedEmbeddings = tiedEmbeddings
        self.ropeLayout = ropeLayout
    }

    /// Checks the values fit together; `source` names the file for the error.
    func validated(_ source: String) throws -> LlamaConfig {
        func fail(_ why: String) -> GeneratorError { .invalidConfig("\(source): \(why)") }
        for (name, v) in [("vocab size", vocabSize), ("dim", dim), ("hidden dim", hiddenDim), ("layers", layers),
                          ("heads", heads), ("kv heads", kvHeads), ("head dim", headDim), ("context length", contextLength)]
        where v <= 0 || v > 1 << 24 {
            throw fail("\(name) is \(v)")
        }
        guard heads % kvHeads == 0 else { throw fail("\(heads) attention heads are not a multiple of \(kvHeads) kv heads") }
        guard rotaryDim > 0, rotaryDim <= headDim, rotaryDim % 2 == 0 else {
            throw fail("rotary dimension \(rotaryDim) must be even and at most the head dimension \(headDim)")
        }
        guard ropeTheta.isFinite, ropeTheta > 0 else { throw fail("rope theta is \(ropeTheta)") }
        guard rmsNormEps.isFinite, rmsNormEps >= 0 else { throw fail("rms norm epsilon is \(rmsNormEps)") }
        return self
    }

    // MARK: - GGUF

    /// From GGUF metadata; `general.architecture` must be `llama`.
    public init(gguf: GGUFFile) throws {
        let file = gguf.url.lastPathComponent
        guard let arch = gguf.string("general.architecture") else {
            throw GeneratorError.invalidConfig("\(file): no general.architecture")
        }
        guard arch == "llama" else {
            throw GeneratorError.unsupportedArchitecture("\(file) has general.architecture '\(arch)' (only 'llama' is supported)")
        }
        func required(_ key: String) throws -> Int {
            guard let v = gguf.int("llama." + key) else { throw GeneratorError.invalidConfig("\(file): missing llama.\(key)") }
            return v
        }
        let dim = try required("embedding_length")
        let heads = try required("attention.head_count")
        let headDim = gguf.int("llama.attention.key_length") ?? (heads > 0 ? dim / heads : 0)
        let vocab = gguf.int("llama.vocab_size") ?? gguf.metadata["tokenizer.ggml.tokens"]?.array?.count
            ?? gguf.info("token_embd.weight")?.rows
        guard let vocab else { throw GeneratorError.invalidConfig("\(file): no llama.vocab_size, tokenizer tokens or token_embd.weight") }
        self.init(vocabSize: vocab, dim: dim, hiddenDim: try required("feed_forward_length"),
                  layers: try required("block_count"), heads: heads,
                  kvHeads: gguf.int("llama.attention.head_count_kv") ?? heads,
                  headDim: headDim, rotaryDim: gguf.int("llama.rope.dimension_count") ?? headDim,
                  ropeTheta: gguf.float("llama.rope.freq_base") ?? 10000,
                  rmsNormEps: gguf.float("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
                  contextLength: try required("context_length"),
                  tiedEmbeddings: gguf.info("output.weight") == nil, ropeLayout: .interleaved)
        if let scaling = gguf.string("llama.rope.scaling.type"), scaling != "none" {
            throw GeneratorError.invalidConfig("\(file): rope scaling '\(scaling)' is not supported")
        }
        _ = try validated(file)
    }

    // MARK: - Hugging Face config.json

    /// config.json's fields a Llama-family decoder reads, named as Hugging Face writes them.
    private struct HuggingFaceConfig: Decodable {
        struct RopeScaling: Decodable {
            var ropeType, type: String?
            enum CodingKeys: String, CodingKey { case ropeType = "rope_type", type }
        }
        var modelType: String?
        var vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads: Int?
        var numKeyValueHeads, headDim, maxPositionEmbeddings: Int?
        var ropeTheta, rmsNormEps: Float?
        var tieWordEmbeddings: Bool?
        var ropeScaling: RopeScaling?

        enum CodingKeys: String, CodingKey {
            case modelType = "model_type", vocabSize = "vocab_size", hiddenSize = "hidden_size"
            case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
            case headDim = "head_dim", maxPositionEmbeddings = "max_position_embeddings"
            case ropeTheta = "rope_theta", rmsNormEps = "rms_norm_eps", tieWordEmbeddings = "tie_word_embeddings"
            case ropeScaling = "rope_scaling"
        }
    }

    /// From a Hugging Face config.json of model_type llama (or mistral, same layout).
    public init(configJSON url: URL) throws {
        let file = url.path
        let json: HuggingFaceConfig
        do { json = try JSONFile.decode(HuggingFaceConfig.self, from: url) } catch {
            throw GeneratorError.invalidConfig("\(error)")
        }
        let modelType = json.modelType ?? "?"
        guard modelType == "llama" || modelType == "mistral" else {
            throw GeneratorError.unsupportedArchitecture("\(file) has model_type '\(modelType)' (llama and mistral are supported)")
        }
        func required(_ value: Int?, _ key: HuggingFaceConfig.CodingKeys) throws -> Int {
            guard let value else { throw GeneratorError.invalidConfig("\(file): missing integer \(key.rawValue)") }
            return value
        }
        if let scaling = json.ropeScaling {
            let kind = scaling.ropeType ?? scaling.type ?? "?"
            if kind != "default" { throw GeneratorError.invalidConfig("\(file): rope_scaling '\(kind)' is not supported") }
        }
        let heads = try required(json.numAttentionHeads, .numAttentionHeads)
        self.init(vocabSize: try required(json.vocabSize, .vocabSize), dim: try required(json.hiddenSize, .hiddenSize),
                  hiddenDim: try required(json.intermediateSize, .intermediateSize),
                  layers: try required(json.numHiddenLayers, .numHiddenLayers), heads: heads,
                  kvHeads: json.numKeyValueHeads ?? heads, headDim: json.headDim,
                  ropeTheta: json.ropeTheta ?? 10000, rmsNormEps: json.rmsNormEps ?? 1e-6,
                  contextLength: json.maxPositionEmbeddings ?? 2048,
                  tiedEmbeddings: json.tieWordEmbeddings ?? false, ropeLayout: .halves)
        _ = try validated(file)
    }
}
