import Foundation

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

    /// Reads `modules.json`, `1_Pooling/config.json` (or the folder modules.json names) and
    /// `sentence_bert_config.json` where present. A plain BERT folder gets mean pooling, L2
    /// normalisation and at most `maxPositions` tokens.
    public init(directory: URL, maxPositions: Int) throws {
        var mode = Mode.mean, normalize = true
        var poolingDir = directory.appendingPathComponent("1_Pooling")
        let modulesURL = directory.appendingPathComponent("modules.json")
        if FileManager.default.fileExists(atPath: modulesURL.path) {
            let data: Data
            do { data = try Data(contentsOf: modulesURL) } catch {
                throw EmbedderError.unreadableFile(path: modulesURL.path, reason: error.localizedDescription)
            }
            guard let modules = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
                throw EmbedderError.invalidJSON(path: modulesURL.path, reason: "expected a list of modules")
            }
            let types = modules.compactMap { $0["type"] as? String }
            normalize = types.contains { $0.hasSuffix(".Normalize") }
            if let pooling = modules.first(where: { ($0["type"] as? String)?.hasSuffix(".Pooling") == true }),
               let path = pooling["path"] as? String {
                poolingDir = directory.appendingPathComponent(path)
            }
            for type in types where !(type.hasSuffix(".Transformer") || type.hasSuffix(".Pooling") || type.hasSuffix(".Normalize")) {
                throw EmbedderError.unsupportedArchitecture(path: modulesURL.path, field: "type", value: type)
            }
        }
        let poolingURL = poolingDir.appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: poolingURL.path) {
            let json = try readJSONObject(poolingURL)
            let flags = ["pooling_mode_mean_tokens", "pooling_mode_cls_token", "pooling_mode_max_tokens",
                         "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
            let on = flags.filter { json[$0] as? Bool == true }
            switch on {
            case ["pooling_mode_mean_tokens"]: mode = .mean
            case ["pooling_mode_cls_token"]: mode = .cls
            default:
                throw EmbedderError.invalidField(path: poolingURL.path, field: on.first ?? "pooling_mode_mean_tokens",
                                                 reason: "pooling \(on) is not supported (exactly one of mean, cls)")
            }
        }
        var maxLength = min(maxPositions, 512)
        let sbertURL = directory.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: sbertURL.path) {
            let json = try readJSONObject(sbertURL)
            if let raw = json["max_seq_length"] {
                guard let n = raw as? Int, n >= 2 else {
                    throw EmbedderError.invalidField(path: sbertURL.path, field: "max_seq_length", reason: "must be an integer >= 2, got \(raw)")
                }
                maxLength = min(n, maxPositions)
            }
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
