// `rag adapter merge`: a model with its LoRA adapter folded into the weights, written as a Hugging
// Face folder, loads back and gives the adapted model's logits (tiny GGUF F32 and Q8_0 and tiny HF
// models; the real SmolLM2 Q4_1 with the shipped adapter against transformers + peft's logits),
// and its tokenizer.json gives the same ids as the tokenizer it was written from.

import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class MergedModelTests: TemporaryFolderTestCase {
    private let sequence = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 257, 10, 3, 200, 5, 99, 0]
    private let texts = ["Hello, world! It's 2026-12-06.", "  two  spaces\tand a tab\n", "数字 123 и кириллица", "<|im_start|>user"]

    private func logits(_ model: LlamaModel, _ ids: [Int]) throws -> [[Float]] {
        try DecodingSession(model: model, contextLength: 256, threads: 2, decoder: { SilentDecoder() }, endTokens: []).logits(for: ids)
    }

    private func maxDelta(_ a: [[Float]], _ b: [[Float]]) -> Float {
        var worst: Float = 0
        for (ra, rb) in zip(a, b) { for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) } }
        return worst
    }

    /// A trained-looking adapter (B random) on every projection of `model`.
    private func randomAdapter(for model: LlamaModel, name: String) throws -> URL {
        let trainable = TrainableLlama(model)
        try trainable.addLoRA(LoRAOptions(rank: 4, alpha: 8, targets: ["all-linear"]), seed: 3)
        var rng = TensorRNG(seed: 9)
        for (key, p) in trainable.trainableParameters where key.hasSuffix("lora_B.weight") {
            p.assignValues(Tensor.randn(p.shape, std: 0.3, rng: &rng))
        }
        let dir = folder.appendingPathComponent("adapter-\(name)")
        try trainable.saveAdapter(to: dir, baseModelName: "tiny")
        return dir
    }

    private func assertSameTokenizer(_ a: LlamaModel, _ b: LlamaModel, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for text in texts {
            XCTAssertEqual(a.tokenizer.encode(text), b.tokenizer.encode(text), "\(name): \(text)", file: file, line: line)
            XCTAssertEqual(a.tokenizer.encode(text, parseSpecial: true), b.tokenizer.encode(text, parseSpecial: true), "\(name): \(text)", file: file, line: line)
        }
        let chat = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: texts[0])]
        XCTAssertEqual(try a.promptTokens(for: chat), try b.promptTokens(for: chat), "\(name): chat prompt", file: file, line: line)
        XCTAssertEqual(a.endOfTurnTokens, b.endOfTurnTokens, "\(name): end-of-turn ids", file: file, line: line)
    }

    func testMergedTinyModelsLoadBackWithTheAdaptedLogits() throws {
        let tiny = TinyLlama(seed: 5, separateHead: true)
        var cases: [(String, URL)] = []
        for (name, gguf) in [("f32", tiny.gguf()), ("q8_0", tiny.gguf(matrices: (8, BlockQuantizer.q8_0)))] {
            let url = folder.appendingPathComponent("tiny-\(name).gguf")
            try gguf.write(to: url)
            cases.append(("GGUF \(name)", url))
        }
        let hf = folder.appendingPathComponent("tiny-hf")
        try TinyLlama(seed: 5).writeHuggingFace(to: hf)
        cases.append(("HF tied", hf))

        for (name, url) in cases {
            let base = try LlamaModel.load(from: url)
            let adapted = try base.adapted(by: try randomAdapter(for: base, name: name.replacingOccurrences(of: " ", with: "-")))
            let out = folder.appendingPathComponent("merged-\(name.replacingOccurrences(of: " ", with: "-"))")
            try adapted.writeMerged(to: out)
            for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(name): \(file)")
            }
            let merged = try LlamaModel.load(from: out)
            XCTAssertNil(merged.adapter)
            XCTAssertEqual(merged.config.ropeLayout, .halves, "\(name): written in Hugging Face's q/k row order")
            XCTAssertEqual(merged.config.tiedEmbeddings, base.config.tiedEmbeddings)
            let expected = try logits(adapted, sequence)
            XCTAssertGreaterThan(maxDelta(expected, try logits(base, sequence)), 0.05, "\(name): the adapter must change the logits")
            XCTAssertLessThanOrEqual(maxDelta(try logits(merged, sequence), expected), prefillTolerance(float32: 1e-4), "\(name)")
            try assertSameTokenizer(merged, base, name)
        }
    }

    func testHalfPrecisionMergeIsHalfTheSizeAndClose() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 8).gguf().write(to: url)
        let adapted = try LlamaModel.load(from: url).adapted(by: try randomAdapter(for: try LlamaModel.load(from: url), name: "h"))
        let f32 = folder.appendingPathComponent("f32"), f16 = folder.appendingPathComponent("f16")
        try adapted.writeMerged(to: f32)
        try adapted.writeMerged(to: f16, weightType: .f16)
        func size(_ u: URL) throws -> Int {
            try XCTUnwrap(FileManager.default.attributesOfItem(atPath: u.appendingPathComponent("model.safetensors").path)[.size] as? Int)
        }
        XCTAssertLessThan(try size(f16), try size(f32) * 6 / 10)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: f16.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["torch_dtype"] as? String, "float16")
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForCausalLM"])
        // F16 keeps 11 significant bits (relative error ≤ 4.9e-4 per weight); the tiny model's logits reach ~10.
        XCTAssertLessThanOrEqual(maxDelta(try logits(try LlamaModel.load(from: f16), sequence), try logits(adapted, sequence)), 5e-2)
    }

    func testAnExistingOutputFolderIsRefusedAndLeftAlone() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 8).gguf().write(to: url)
        let out = folder.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: out.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try LlamaModel.load(from: url).writeMerged(to: out)) { error in
            XCTAssertTrue("\(error)".contains(out.path) && "\(error)".contains("already exists"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("notes.txt"), encoding: .utf8), "keep")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "no temporary folder is left behind")
    }

    /// The real SmolLM2 Q4_1 with the shipped adapter, merged to F32: loaded back, it gives
    /// transformers + peft's logits for that adapter (the fixture of testDefaultAdapterMatchesTransformersWithPEFT),
    /// and its tokenizer.json gives the GGUF tokenizer's ids.
    func testRealModelMergedWithTheDefaultAdapterMatchesTransformersWithPEFT() throws {
        let adapterFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("adapters/SmolLM2-135M-Instruct-rag", isDirectory: true)
        let base = try RealModel.load()
        let out = folder.appendingPathComponent("smollm2-rag")
        try base.adapted(by: adapterFolder).writeMerged(to: out)
        let merged = try LlamaModel.load(from: out)
        let parity = try LoRAAdapterTests.compare(merged, ids: \.lora_top_ids, logits: \.lora_top_logits, fixture: "default_adapter_parity.json")
        print("merged default adapter vs transformers + peft: top-1 \(parity.agree)/\(parity.total), max |Δlogit| \(parity.delta)")
        XCTAssertLessThanOrEqual(parity.delta, 1e-2)
        XCTAssertGreaterThanOrEqual(Double(parity.agree) / Double(parity.total), 0.99)
        try assertSameTokenizer(merged, base, "SmolLM2")
        XCTAssertEqual(merged.chatTemplateSource, base.chatTemplateSource)
    }
}
