// `rag finetune pretrain`: texts read from a folder or JSONL (bad records named), packed into
// blocks with the end-of-text token between texts, and a model made from scratch (a trained
// tokenizer + a small config, random weights) that learns its text and is written as a folder
// that loads and continues the text; and LoRA pretraining of an existing model.

import Foundation
import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class PretrainTests: TemporaryFolderTestCase {
    private let story = "Beavers build dams across rivers with branches and mud. Cormorants dive for fish along the coast. "

    func testTextsAreReadFromFoldersAndJSONLAndBadRecordsNamed() throws {
        let docs = folder.appendingPathComponent("docs/sub", isDirectory: true)
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try "second".write(to: docs.appendingPathComponent("b.md"), atomically: true, encoding: .utf8)
        try "first".write(to: folder.appendingPathComponent("docs/a.txt"), atomically: true, encoding: .utf8)
        try "ignored".write(to: folder.appendingPathComponent("docs/c.pdf"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try PretrainTexts.read(folder.appendingPathComponent("docs")), ["first", "second"])

        let jsonl = folder.appendingPathComponent("t.jsonl")
        try "{\"text\": \"one\"}\n{\"text\": \"two\"}".write(to: jsonl, atomically: true, encoding: .utf8)
        XCTAssertEqual(try PretrainTexts.read(jsonl), ["one", "two"])
        let bad = folder.appendingPathComponent("bad.jsonl")
        try "{\"text\": \"one\"}\n{\"body\": \"two\"}".write(to: bad, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PretrainTexts.read(bad)) { XCTAssertTrue("\($0)".contains("bad.jsonl:2") && "\($0)".contains("text"), "\($0)") }
        XCTAssertThrowsError(try PretrainTexts.read(folder.appendingPathComponent("missing"))) { XCTAssertTrue("\($0)".contains("missing"), "\($0)") }
    }

    func testTextsArePackedIntoBlocksWithTheEndOfTextBetween() throws {
        let tokenizer = try BPETrainer(vocabSize: 270).train([story])
        let packed = try PackedTexts(texts: ["ab", "cd"], tokenizer: tokenizer, endOfText: 0, blockLength: 4)
        let stream = tokenizer.encode("ab") + [0] + tokenizer.encode("cd") + [0]
        XCTAssertEqual(packed.tokens, stream.count)
        XCTAssertEqual(packed.sequences.flatMap(\.ids), stream.count % 4 == 1 ? Array(stream.dropLast()) : stream)
        XCTAssertTrue(packed.sequences.dropLast().allSatisfy { $0.ids.count == 4 })
        XCTAssertTrue(packed.sequences.allSatisfy { !$0.isTarget[0] && $0.isTarget.dropFirst().allSatisfy { $0 } })
    }

    /// From nothing: a tokenizer trained on the text, a two-layer config, random weights; full
    /// training learns the text, and the written folder continues it greedily.
    func testAModelFromScratchLearnsItsTextAndLoadsBack() throws {
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        try BPETrainer(vocabSize: 300).train(Array(repeating: story, count: 4)).tokenizerJSON().write(to: tokenizerURL)
        let configURL = folder.appendingPathComponent("small.json")
        let config: [String: Any] = ["hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                                     "num_key_value_heads": 2, "max_position_embeddings": 128, "rms_norm_eps": 1e-5]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let model = try LlamaModel.createRandom(configFile: configURL, tokenizerFile: tokenizerURL, seed: 3,
                                                in: folder.appendingPathComponent("init"))
        XCTAssertEqual(model.config.vocabSize, 300)
        XCTAssertTrue(model.config.tiedEmbeddings)

        var o = FinetuneOptions()
        o.full = true; o.maxSteps = 120; o.epochs = 1000; o.learningRate = 5e-3; o.warmupRatio = 0.05
        o.batchSize = 4; o.gradAccum = 1; o.maxLength = 32; o.seed = 3
        o.evalSplit = 0.2; o.evalEvery = 20
        let out = folder.appendingPathComponent("scratch")
        var losses: [Double] = [], validation: [Double] = []
        _ = try Finetune.pretrain(model: model, texts: Array(repeating: story, count: 6), output: out, options: o, baseModelName: "small",
                                  progress: { if $0.isEvaluation { validation.append($0.metrics["eval_loss"] ?? .nan) } else { losses.append($0.loss) } })
        print("pretrain from scratch: loss \(losses.first ?? 0) → \(losses.last ?? 0); validation \(validation.map { String(format: "%.3f", $0) })")
        XCTAssertGreaterThanOrEqual(validation.count, 5)
        XCTAssertLessThan(validation.last ?? 9, 0.2 * (validation.first ?? 0), "the held-out blocks' loss falls too")
        XCTAssertGreaterThan(losses.first ?? 0, 5, "random weights start near ln(300) = 5.7")
        XCTAssertLessThan(losses.last ?? 9, 0.5)

        let trained = try LlamaModel.load(from: out)
        let prompt = trained.tokenizer.encode("Beavers build dams")
        let text = try DecodingSession(model: trained, threads: 1).generate(promptTokens: prompt, options: .greedy(maxTokens: 12).withoutEndOfTurn).text
        XCTAssertTrue(text.hasPrefix(" across rivers"), "continues its text: \(text)")

        let mismatch = folder.appendingPathComponent("bad.json")
        try JSONSerialization.data(withJSONObject: config.merging(["vocab_size": 999]) { $1 }).write(to: mismatch)
        XCTAssertThrowsError(try LlamaModel.createRandom(configFile: mismatch, tokenizerFile: tokenizerURL, seed: 1,
                                                          in: folder.appendingPathComponent("x"))) {
            XCTAssertTrue("\($0)".contains("vocab_size 999") && "\($0)".contains("300"), "\($0)")
        }
    }

    func testLoRAPretrainingOfAnExistingModelWritesAnAdapter() throws {
        let model = try TinyLlama.loadGGUF(seed: 9, in: folder)
        var o = FinetuneOptions()
        o.maxSteps = 3; o.batchSize = 2; o.gradAccum = 1; o.maxLength = 16; o.learningRate = 1e-2
        o.lora = LoRAOptions(rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"])
        let out = folder.appendingPathComponent("lora")
        var summary: DatasetSummary?
        _ = try Finetune.pretrain(model: model, texts: [story], output: out, options: o, baseModelName: "tiny", onData: { summary = $0 })
        XCTAssertGreaterThan(summary?.examples ?? 0, 1)
        XCTAssertNotNil(try model.adapted(by: out).adapter)
    }
}
