import Foundation
import Tensor
import Tokenizers

/// A sentence-transformers model (BERT encoder + pooling + normalisation) with its tokenizer.
///
/// `encode` only reads the weights, so concurrent calls are safe; training mutates them, so do not
/// encode with an encoder while it is being trained.
public final class SentenceEncoder: @unchecked Sendable {
    public let model: BertModel
    public let tokenizer: WordPieceTokenizer
    /// Folder name + a short hash of config.json + the weights' size, e.g. `all-MiniLM-L6-v2-3f9a0c1e-90868376`.
    public let identity: String
    /// Where the tokenizer files were read from (copied by `save`).
    let tokenizerDirectory: URL

    public var dimension: Int { model.dimension }
    /// Longest input in tokens, [CLS] and [SEP] included; longer texts are truncated.
    public var maxTokens: Int { model.pooling.maxSeqLength }

    public init(model: BertModel, tokenizer: WordPieceTokenizer, tokenizerDirectory: URL, identity: String) {
        self.model = model
        self.tokenizer = tokenizer
        self.tokenizerDirectory = tokenizerDirectory
        self.identity = identity
    }

    /// Loads a Hugging Face / sentence-transformers folder: config.json, model.safetensors,
    /// tokenizer.json or vocab.txt, and (optional) modules.json, 1_Pooling/config.json,
    /// sentence_bert_config.json.
    public static func load(directory: URL) throws -> SentenceEncoder {
        let configURL = directory.appendingPathComponent("config.json")
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        let config = try BertConfig(contentsOf: configURL)
        let pooling = try PoolingConfig(directory: directory, maxPositions: config.maxPositions)
        let hasTokenizer = ["tokenizer.json", "vocab.txt"].contains {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
        }
        guard hasTokenizer else {
            throw EmbedderError.missingFile(path: directory.appendingPathComponent("tokenizer.json").path + " (or vocab.txt)")
        }
        let tokenizer = try WordPieceTokenizer(directory: directory)
        guard tokenizer.vocabSize <= config.vocabSize else {
            throw EmbedderError.invalidField(path: configURL.path, field: "vocab_size",
                                             reason: "is \(config.vocabSize) but the tokenizer has \(tokenizer.vocabSize) tokens")
        }
        guard tokenizer.clsID >= 0, tokenizer.sepID >= 0 else {
            throw EmbedderError.invalidField(path: directory.appendingPathComponent("tokenizer.json").path, field: "post_processor",
                                             reason: "has no [CLS]/[SEP] tokens")
        }
        let model = BertModel.unloaded(config: config, pooling: pooling)
        try model.loadWeights(from: weightsURL)
        return SentenceEncoder(model: model, tokenizer: tokenizer, tokenizerDirectory: directory,
                               identity: try Self.identity(of: directory))
    }

    /// Folder name, FNV-1a of config.json (8 hex digits), size of model.safetensors.
    static func identity(of directory: URL) throws -> String {
        let config = (try? Data(contentsOf: directory.appendingPathComponent("config.json"))) ?? Data()
        var hash = FNV1a()
        hash.add(config)
        let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? 0
        let hex = String(hash.value >> 32, radix: 16)
        return "\(directory.standardizedFileURL.lastPathComponent)-\(String(repeating: "0", count: 8 - hex.count))\(hex)-\(size)"
    }

    /// Token ids of `text` as the model sees them ([CLS] … [SEP], truncated to `maxTokens`).
    public func tokenize(_ text: String) -> [Int] {
        tokenizer.encode(text, maxLength: maxTokens)
    }

    /// Unit-length embeddings (when the model normalises), one per text, in input order.
    /// Texts are grouped by length so a batch carries little padding.
    public func encode(_ texts: [String], batchSize: Int = 32) throws -> [[Float]] {
        try encode(tokenized: texts.map(tokenize), batchSize: batchSize)
    }

    /// Embeddings of already tokenized inputs (as from `tokenize`), in input order.
    public func encode(tokenized: [[Int]], batchSize: Int = 32) throws -> [[Float]] {
        guard batchSize > 0 else { throw EmbedderError.invalidArgument("batch size \(batchSize) must be positive") }
        var result = [[Float]](repeating: [], count: tokenized.count)
        try noGrad {
            for batch in LengthBatches(lengths: tokenized.map(\.count), batchSize: batchSize) {
                let padded = PaddedBatch(batch.map { tokenized[$0] }, padID: tokenizer.padID)
                let e = try model(ids: padded.ids, lengths: padded.lengths)   // [B, C]
                let c = e.shape[1]
                let values = e.toArray()
                for (row, index) in batch.enumerated() { result[index] = Array(values[(row * c)..<((row + 1) * c)]) }
            }
        }
        return result
    }

    /// Embeddings with autograd (training): [B, C] for already tokenized inputs, one padded batch.
    public func embed(tokenized: [[Int]]) throws -> Tensor {
        let padded = PaddedBatch(tokenized, padID: tokenizer.padID)
        return try model(ids: padded.ids, lengths: padded.lengths)
    }

    /// Writes a sentence-transformers folder: config.json, model.safetensors (F32), the tokenizer
    /// files, modules.json, 1_Pooling/config.json, sentence_bert_config.json.
    public func save(to directory: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try writeJSONObject(model.config.json, to: directory.appendingPathComponent("config.json"))
        try SafeTensors.write(try model.exportedParameters(), metadata: ["format": "pt"],
                              to: directory.appendingPathComponent("model.safetensors"))
        let tokenizerFiles = ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"]
        if tokenizerDirectory.standardizedFileURL != directory.standardizedFileURL {
            for name in tokenizerFiles {
                let src = tokenizerDirectory.appendingPathComponent(name), dst = directory.appendingPathComponent(name)
                guard fm.fileExists(atPath: src.path) else { continue }
                if fm.fileExists(atPath: dst.path) { try fm.removeItem(at: dst) }
                try fm.copyItem(at: src, to: dst)
            }
        }
        try model.pooling.write(to: directory, dimension: dimension)
    }
}
