import Foundation
import XCTest
@testable import Embedder
@testable import Tensor
import Tokenizers

/// The default model folder (RAG_MODELS or ~/.cache/rag/models), or a skip when it was not fetched.
func defaultModelDirectory() throws -> URL {
    let root = ProcessInfo.processInfo.environment["RAG_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
    let dir = root.appendingPathComponent("all-MiniLM-L6-v2")
    guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
        throw XCTSkip("all-MiniLM-L6-v2 not found at \(dir.path) (run scripts/fetch-models.sh)")
    }
    return dir
}

func fixtureURL(_ name: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw EmbedderError.missingFile(path: "Fixtures/\(name)")
    }
    return url
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var dot: Double = 0, na: Double = 0, nb: Double = 0
    for i in 0..<min(a.count, b.count) {
        dot += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i])
    }
    return Float(dot / max((na * nb).squareRoot(), 1e-30))
}

func temporaryDirectory(_ name: String = #function) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("embedder-tests-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Words of the tiny test vocabulary (after the five BERT specials).
let tinyWords = ["the", "a", "is", "on", "of", "and", "cat", "dog", "fish", "bird", "red", "blue", "green", "big",
                 "small", "sat", "ran", "swam", "flew", "mat", "sea", "sky", "tree", "house", "river", "hill",
                 "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", ".", ",", "##s"]

/// A folder with a tiny vocab.txt, and a random encoder over it (C = 16, 2 heads, MLP 32).
func tinyEncoder(seed: UInt64 = 1, layers: Int = 2, pooling: PoolingConfig.Mode = .mean) throws -> SentenceEncoder {
    let dir = try temporaryDirectory("tiny\(seed)")
    let vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + tinyWords
    try vocab.joined(separator: "\n").appending("\n").write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
    let tokenizer = try WordPieceTokenizer(directory: dir)
    let config = BertConfig(vocabSize: tokenizer.vocabSize, hiddenSize: 16, layers: layers, heads: 2,
                            intermediateSize: 32, maxPositions: 32)
    let model = BertModel(config: config, pooling: PoolingConfig(mode: pooling, normalize: true, maxSeqLength: 32), seed: seed)
    return SentenceEncoder(model: model, tokenizer: tokenizer, tokenizerDirectory: dir, identity: "tiny-\(seed)")
}

let tinyTexts = ["the cat sat on the mat", "a dog ran", "fish swam in the sea and the river . big fish , small fish",
                 "bird", "", "red blue green house on the hill", "alpha beta gamma delta epsilon zeta eta theta iota kappa",
                 "cats dogs"]
