import Foundation
import Tokenizers

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

    /// `config.json`'s fields this encoder reads, named as Hugging Face writes them.
    private struct File: Decodable {
        var modelType: String?
        var architectures: [String]?
        var positionEmbeddingType: String?
        var vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize: Int?
        var maxPositionEmbeddings, typeVocabSize, padTokenID: Int?
        var layerNormEps: Double?
        var hiddenAct: String?

        enum CodingKeys: String, CodingKey {
            case modelType = "model_type", architectures, positionEmbeddingType = "position_embedding_type"
            case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
            case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size"
            case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
            case padTokenID = "pad_token_id", layerNormEps = "layer_norm_eps", hiddenAct = "hidden_act"
        }
    }

    /// Reads `config.json`; anything that is not a BERT encoder is rejected naming the field.
    public init(contentsOf url: URL) throws {
        let file = try JSONFile.decode(File.self, from: url)
        let path = url.path
        if let modelType = file.modelType, modelType != "bert" {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "model_type", value: modelType)
        }
        if let other = file.architectures?.first(where: { !$0.hasPrefix("Bert") }) {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "architectures", value: other)
        }
        if file.modelType == nil && file.architectures == nil {
            throw EmbedderError.missingField(path: path, field: "model_type")
        }
        if let positions = file.positionEmbeddingType, positions != "absolute" {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "position_embedding_type", value: positions)
        }
        func count(_ value: Int?, _ key: File.CodingKeys, default fallback: Int? = nil, zeroAllowed: Bool = false) throws -> Int {
            guard let n = value ?? fallback else { throw EmbedderError.missingField(path: path, field: key.rawValue) }
            guard n > 0 || (zeroAllowed && n == 0) else {
                throw EmbedderError.invalidField(path: path, field: key.rawValue, reason: "must be a positive integer, got \(n)")
            }
            return n
        }
        let act = file.hiddenAct ?? "gelu"
        guard ["gelu", "gelu_new", "gelu_pytorch_tanh"].contains(act) else {
            throw EmbedderError.unsupportedArchitecture(path: path, field: "hidden_act", value: act)
        }
        self.init(vocabSize: try count(file.vocabSize, .vocabSize), hiddenSize: try count(file.hiddenSize, .hiddenSize),
                  layers: try count(file.numHiddenLayers, .numHiddenLayers),
                  heads: try count(file.numAttentionHeads, .numAttentionHeads),
                  intermediateSize: try count(file.intermediateSize, .intermediateSize),
                  maxPositions: try count(file.maxPositionEmbeddings, .maxPositionEmbeddings, default: 512),
                  typeVocabSize: try count(file.typeVocabSize, .typeVocabSize, default: 2),
                  layerNormEps: Float(file.layerNormEps ?? 1e-12),
                  hiddenAct: act, padTokenID: try count(file.padTokenID, .padTokenID, default: 0, zeroAllowed: true))
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
