import Foundation
import XCTest
@testable import Embedder
import Tensor
import Tokenizers

/// Clear errors naming the file, field, tensor or line.
final class BadInputTests: XCTestCase {
    private func savedTiny() throws -> URL {
        let dir = try temporaryDirectory("bad")
        try tinyEncoder().save(to: dir)
        return dir
    }

    private func editConfig(_ dir: URL, _ edit: (inout [String: Any]) -> Void) throws {
        let url = dir.appendingPathComponent("config.json")
        var json = try JSONFile.object(at: url)
        edit(&json)
        try writeJSONObject(json, to: url)
    }

    private func loadError(_ dir: URL) -> String {
        do { _ = try SentenceEncoder.load(directory: dir); return "no error" } catch { return "\(error)" }
    }

    func testUnsupportedArchitectureNamesFileAndField() throws {
        let dir = try savedTiny()
        try editConfig(dir) { $0["model_type"] = "gpt2"; $0["architectures"] = ["GPT2LMHeadModel"] }
        let message = loadError(dir)
        XCTAssertTrue(message.contains("config.json") && message.contains("model_type") && message.contains("gpt2")
                      && message.contains("unsupported architecture"), message)
        try editConfig(dir) { $0["model_type"] = "bert"; $0["architectures"] = ["RobertaModel"] }
        XCTAssertTrue(loadError(dir).contains("architectures"), loadError(dir))
    }

    func testMissingAndMismatchedWeights() throws {
        let dir = try savedTiny()
        try editConfig(dir) { $0["intermediate_size"] = 64 }
        let mismatch = loadError(dir)
        XCTAssertTrue(mismatch.contains("model.safetensors") && mismatch.contains("encoder.layer.0.intermediate.dense.weight")
                      && mismatch.contains("[32, 16]") && mismatch.contains("[64, 16]"), mismatch)
        try editConfig(dir) { $0["intermediate_size"] = 32; $0["num_hidden_layers"] = 3 }
        XCTAssertTrue(loadError(dir).contains("missing tensor `encoder.layer.2."), loadError(dir))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("model.safetensors"))
        XCTAssertTrue(loadError(dir).contains("missing model file") && loadError(dir).contains("model.safetensors"), loadError(dir))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("config.json"))
        XCTAssertTrue(loadError(dir).contains("config.json"), loadError(dir))
    }

    func testWeightsUnderTheBertPrefixLoad() throws {
        let encoder = try tinyEncoder(seed: 4)
        let dir = try temporaryDirectory()
        try encoder.save(to: dir)
        let prefixed = try encoder.model.exportedParameters().map { ("bert." + $0.0, $0.1) }
        try SafeTensors.write(prefixed, to: dir.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(try SentenceEncoder.load(directory: dir).encode(tinyTexts), try encoder.encode(tinyTexts))
    }

    /// Ids from a tokenizer of another model: an error on the inference path as on the training path.
    func testTokenIDsOutsideTheVocabularyAreAnError() throws {
        let encoder = try tinyEncoder()
        let vocab = encoder.model.config.vocabSize
        XCTAssertTrue(encoder.model.supportsInferencePath)
        for bad in [vocab, vocab + 5000, -1] {
            let ids = [encoder.tokenizer.clsID, bad, encoder.tokenizer.sepID]
            XCTAssertThrowsError(try noGrad { try encoder.model(ids: ids, lengths: [3]) }) { error in
                XCTAssertTrue("\(error)".contains("outside the model's vocabulary of \(vocab)"), "\(error)")
            }
            XCTAssertThrowsError(try encoder.model(ids: ids, lengths: [3]))
            XCTAssertThrowsError(try encoder.encode(tokenized: [ids]))
        }
        XCTAssertNoThrow(try noGrad { try encoder.model(ids: [encoder.tokenizer.clsID, vocab - 1, encoder.tokenizer.sepID], lengths: [3]) })
    }

    func testTokenizerProblems() throws {
        let dir = try savedTiny()
        try "".write(to: dir.appendingPathComponent("vocab.txt"), atomically: true, encoding: .utf8)
        XCTAssertTrue(loadError(dir).contains("vocab"), loadError(dir))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("vocab.txt"))
        XCTAssertTrue(loadError(dir).contains("tokenizer.json (or vocab.txt)"), loadError(dir))
    }

    func testPairsFileErrorsNameTheLine() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("pairs.jsonl")
        try """
        {"query": "what is a cat", "positive": "a cat is an animal"}

        {"query": "broken", "positive": }
        {"query": "no positive"}
        {"query": "q", "positive": "p", "negative": "n"}
        """.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingPairs.load(from: url)) { error in
            XCTAssertEqual(error as? EmbedderError, .malformedLine(path: url.path, line: 3, reason: "not valid JSON"))
        }
        var warnings: [String] = []
        let pairs = try TrainingPairs.load(from: url, onMalformed: .skip) { warnings.append($0) }
        XCTAssertEqual(pairs, [TrainingPair(query: "what is a cat", positive: "a cat is an animal"),
                               TrainingPair(query: "q", positive: "p", negative: "n")])
        XCTAssertEqual(warnings.count, 2)
        XCTAssertTrue(warnings[1].contains("pairs.jsonl:4") && warnings[1].contains("positive"), warnings[1])

        let empty = dir.appendingPathComponent("empty.jsonl")
        try "\n\n".write(to: empty, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingPairs.load(from: empty)) { error in
            XCTAssertTrue("\(error)".contains("empty training set") && "\(error)".contains("empty.jsonl"), "\(error)")
        }
        let trainer = try ContrastiveTrainer(encoder: try tinyEncoder(), config: TrainingConfig(batchSize: 4))
        XCTAssertThrowsError(try trainer.train(pairs: [])) { XCTAssertTrue("\($0)".contains("empty training set")) }
        // identical pairs cannot form a batch with a negative
        let same = Array(repeating: TrainingPair(query: "q", positive: "p"), count: 5)
        XCTAssertThrowsError(try trainer.train(pairs: same)) { XCTAssertTrue("\($0)".contains("empty training set"), "\($0)") }
    }
}
