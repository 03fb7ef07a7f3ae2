import Foundation

/// Hyper-parameters of a BERT encoder, as in Hugging Face's `config.json`.
public struct BertConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var hiddenSize: Int             // C
    public var layers: Int                 // N
    public var heads: Int                  // H (head size C / H)
    public var intermediateSize: Int       // MLP width, 4C in BERT
    public var maxPositions: Int           // learned absolute positions
    public var typeVocabSize: Int          // segment (token type) ids
    public var layerNormEps: Float
    public var hiddenAct: String           // "gelu" (erf) or "gelu_new"/"gelu_pytorch_tanh"
    public var padTokenID: Int

    public init(vocabSize: Int, hiddenSize: Int, layers: Int, heads: Int, intermediateSize: Int,
                maxPositions: Int = 512, typeVocabSize: Int = 2, layerNormEps: Float = 1e-12,
                hiddenAct: String = "gelu", padTokenID: Int = 0) {
        self.vocabSize = vocabSize; self.hiddenSize = hiddenSize; self.layers = layers; self.heads = heads
        self.intermediateSize = intermediateSize; self.maxPositions = maxPositions
        self.typeVocabSize = typeVocabSize; self.layerNormEps = layerNormEps
        self.hiddenAct = hiddenAct; self.padTokenID = padTokenID
    }

    /// Reads `config.json`; anything that is not a BERT encoder is rejected naming the field.
    public init(contentsOf url: URL) throws {
        let json = try readJSONObject(url)
        let path = url.path
        let modelType = json["model_type"] as? String
        if let modelType, modelType != "bert" {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "model_type", value: modelType)
        }
        if let architectures = json["architectures"] as? [String],
           let other = architectures.first(where: { !$0.hasPrefix("Bert") }) {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "architectures", value: other)
        }
        if modelType == nil && json["architectures"] == nil {
            throw EmbedderError.missingField(path: path, field: "model_type")
        }
        if let positions = json["position_embedding_type"] as? String, positions != "absolute" {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "position_embedding_type", value: positions)
        }
        func int(_ key: String, default value: Int? = nil) throws -> Int {
            guard let raw = json[key] else {
                if let value { return value }
                throw EmbedderError.missingField(path: path, field: key)
            }
            guard let n = raw as? Int, n > 0 || (key == "pad_token_id" && n == 0) else {
                throw EmbedderError.invalidField(path: path, field: key, reason: "must be a positive integer, got \(raw)")
            }
            return n
        }
        let act = json["hidden_act"] as? String ?? "gelu"
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh"].contains(act) else {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "hidden_act", value: act)
        }
        self.init(vocabSize: try int("vocab_size"), hiddenSize: try int("hidden_size"),
                  layers: try int("num_hidden_layers"), heads: try int("num_attention_heads"),
                  intermediateSize: try int("intermediate_size"),
                  maxPositions: try int("max_position_embeddings", default: 512),
                  typeVocabSize: try int("type_vocab_size", default: 2),
                  layerNormEps: Float((json["layer_norm_eps"] as? Double) ?? 1e-12),
                  hiddenAct: act, padTokenID: try int("pad_token_id", default: 0))
        guard hiddenSize % heads == 0 else {
            throw EmbedderError.invalidField(path: path, field: "num_attention_heads",
                                             reason: "\(heads) does not divide hidden_size \(hiddenSize)")
        }
    }

    /// The `config.json` object for this configuration.
    public var json: [String: Any] {
        ["architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocabSize, "hidden_size": hiddenSize,
         "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediateSize,
         "max_position_embeddings": maxPositions, "type_vocab_size": typeVocabSize,
         "layer_norm_eps": Double(layerNormEps), "hidden_act": hiddenAct, "pad_token_id": padTokenID,
         "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
         "initializer_range": 0.02]
    }
}
