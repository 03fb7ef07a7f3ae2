import Foundation
import Tokenizers

/// How token vectors become one sentence vector (sentence-transformers' Pooling + Normalize modules).
public struct PoolingConfig: Sendable, Equatable {
    public enum Mode: String, Sendable { case mean, cls }
    public var mode: Mode
    public var normalize: Bool
    /// Longest input in tokens, [CLS] and [SEP] included (`max_seq_length`).
    public var maxSeqLength: Int

    public init(mode: Mode = .mean, normalize: Bool = true, maxSeqLength: Int = 256) {
        self.mode = mode; self.normalize = normalize; self.maxSeqLength = maxSeqLength
    }

    // The sentence-transformers files this reads, named as the library writes them.
    private struct Module: Decodable { var type: String?; var path: String? }
    private struct PoolingFile: Decodable {
        var mean, cls, max, meanSqrtLen, weightedMean, lastToken: Bool?
        enum CodingKeys: String, CodingKey, CaseIterable {
            case mean = "pooling_mode_mean_tokens", cls = "pooling_mode_cls_token", max = "pooling_mode_max_tokens"
            case meanSqrtLen = "pooling_mode_mean_sqrt_len_tokens", weightedMean = "pooling_mode_weightedmean_tokens"
            case lastToken = "pooling_mode_lasttoken"
        }
        /// The modes switched on, by their keys.
        var on: [String] {
            zip(CodingKeys.allCases, [mean, cls, max, meanSqrtLen, weightedMean, lastToken]).filter { $0.1 == true }.map(\.0.rawValue)
        }
    }
    private struct SentenceBertFile: Decodable {
        var maxSeqLength: Int?
        enum CodingKeys: String, CodingKey { case maxSeqLength = "max_seq_length" }
    }

    /// Reads `modules.json`, `1_Pooling/config.json` (or the folder modules.json names) and
    /// `sentence_bert_config.json` where present. A plain BERT folder gets mean pooling, L2
    /// normalisation and at most `maxPositions` tokens.
    public init(directory: URL, maxPositions: Int) throws {
        var mode = Mode.mean, normalize = true
        var poolingDir = directory.appendingPathComponent("1_Pooling")
        let modulesURL = directory.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path) {
            let modules = try JSONFile.decode([Module].self, from: modulesURL)
            let types = modules.compactMap(\.type)
            normalize = types.contains { $0.hasSuffix(".Normalize") }
            if let pooling = modules.first(where: { $0.type?.hasSuffix(".Pooling") == true }), let path = pooling.path {
                poolingDir = directory.appendingPathComponent(path)
            }
            for type in types where !(type.hasSuffix(".Transformer") || type.hasSuffix(".Pooling") || type.hasSuffix(".Normalize")) {
                throw EmbedderError.unsupportedArchitecture(path: modulesURL.path, field: "type", value: type)
            }
        }
        let poolingURL = poolingDir.appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: poolingURL.path) {
            let on = try JSONFile.decode(PoolingFile.self, from: poolingURL).on
            switch on {
            case [PoolingFile.CodingKeys.mean.rawValue]: mode = .mean
            case [PoolingFile.CodingKeys.cls.rawValue]: mode = .cls
            default:
                throw EmbedderError.invalidField(path: poolingURL.path, field: on.first ?? PoolingFile.CodingKeys.mean.rawValue,
                                                 reason: "pooling \(on) is not supported (exactly one of mean, cls)")
            }
        }
        var maxLength = min(maxPositions, 512)
        let sbertURL = directory.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sbertURL.path),
           let n = try JSONFile.decode(SentenceBertFile.self, from: sbertURL).maxSeqLength {
            guard n >= 2 else {
                throw EmbedderError.invalidField(path: sbertURL.path, field: "max_seq_length", reason: "must be an integer >= 2, got \(n)")
            }
            maxLength = min(n, maxPositions)
        }
        self.init(mode: mode, normalize: normalize, maxSeqLength: maxLength)
    }

    /// Writes modules.json, 1_Pooling/config.json and sentence_bert_config.json into `directory`.
    func write(to directory: URL, dimension: Int) throws {
        var modules: [[String: Any]] = [
            ["idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"],
            ["idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"],
        ]
        if normalize { modules.append(["idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"]) }
        let data = try JSONSerialization.data(withJSONObject: modules, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: directory.appendingPathComponent("modules.json"), options: .atomic)
        let poolingDir = directory.appendingPathComponent("1_Pooling")
        try FileManager.default.createDirectory(at: poolingDir, withIntermediateDirectories: true)
        try writeJSONObject([
            "word_embedding_dimension": dimension,
            "pooling_mode_cls_token": mode == .cls, "pooling_mode_mean_tokens": mode == .mean,
            "pooling_mode_max_tokens": false, "pooling_mode_mean_sqrt_len_tokens": false,
        ], to: poolingDir.appendingPathComponent("config.json"))
        try writeJSONObject(["max_seq_length": maxSeqLength, "do_lower_case": false],
                            to: directory.appendingPathComponent("sentence_bert_config.json"))
    }
}
