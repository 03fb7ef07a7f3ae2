// Full-parameter training (`--full`): every weight's gradient against finite differences, a tiny
// model that learns its examples and is written as a Hugging Face folder whose fast-path logits are
// the trained model's, a resumed run equal to an uninterrupted one, DPO whose reference is the
// untouched original, and a quantized model refused with the reason.

import Foundation
import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class FullTrainingTests: TemporaryFolderTestCase {
    private func huggingFaceModel(seed: UInt64, separateHead: Bool) throws -> LlamaModel {
        let dir = folder.appendingPathComponent("hf-\(seed)-\(separateHead)")
        try TinyLlama(seed: seed, separateHead: separateHead).writeHuggingFace(to: dir)
        return try LlamaModel.load(from: dir)
    }

    private func options(steps: Int) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.epochs = 1000; o.maxSteps = steps; o.learningRate = 3e-3; o.warmupRatio = 0; o.batchSize = 3; o.gradAccum = 1
        o.maxLength = 64; o.full = true
        return o
    }

    private let examples = [("a", "xyz"), ("b", "pqr"), ("c", "klm")]

    /// d(Σ log p) for every kind of weight: embedding, norms, attention and MLP projections,
    /// the untied head; through recomputed layers as training runs them.
    func testEveryWeightsGradientMatchesFiniteDifferences() throws {
        for separateHead in [true, false] {
            let trainable = TrainableLlama(try huggingFaceModel(seed: 4, separateHead: separateHead))
            try trainable.makeFullyTrainable()
            XCTAssertTrue(trainable.isFull)
            let names = trainable.trainableParameters.map(\.0)
            XCTAssertEqual(names.contains("lm_head.weight"), separateHead, "a tied head is the embedding itself")
            XCTAssertTrue(names.contains("model.layers.1.mlp.down_proj.weight") && names.contains("model.norm.weight"))
            let ids = [256, 72, 101, 108, 108, 111, 256, 119, 111, 114, 108, 100], targets = [-100, 101, 108, -100, 111, 256, -100, 111, 114, 108, 100, -100]
            func objective() throws -> Double {
                let logp = try trainable.targetLogProbs(ids, targets: targets, batch: 2, length: 6)
                return logp.toArray().reduce(0) { $0 + Double($1) }
            }
            let logp = try trainable.targetLogProbs(ids, targets: targets, batch: 2, length: 6)
            logp.sum().backward()
            let picked = trainable.trainableParameters.filter { name, _ in
                ["model.embed_tokens.weight", "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.weight",
                 "model.layers.1.self_attn.v_proj.weight", "model.layers.1.mlp.gate_proj.weight", "model.norm.weight", "lm_head.weight"].contains(name)
            }
            let checked = try assertGradientsMatchFiniteDifferences(picked, samples: 12, eps: 1e-2, absolute: 3e-3, relative: 3e-2,
                                                                    label: "full, separate head \(separateHead)", objective: objective)
            XCTAssertGreaterThan(checked, 60)
            for (_, p) in trainable.trainableParameters { p.grad = nil }
        }
    }

    /// A GGUF F32 model (q/k rows in GGUF's rotary order) trained in full: it learns its examples,
    /// the output folder loads as a model whose fast path gives the trained logits, and a resumed
    /// run ends with the same weights as an uninterrupted one.
    func testFullSFTLearnsWritesAModelFolderAndResumesExactly() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 12).gguf().write(to: url)
        let model = try LlamaModel.load(from: url)
        let data = try write(examples.map { json(["prompt": $0.0, "completion": $0.1]) }, "sft.jsonl")
        let out = folder.appendingPathComponent("full")
        var losses: [Double] = []
        _ = try Finetune.sft(model: model, data: data, output: out, options: options(steps: 40), baseModelName: "tiny",
                             progress: { losses.append($0.loss) })
        print("full SFT tiny: loss \(losses.first ?? 0) → \(losses.last ?? 0)")
        XCTAssertLessThan(losses.last ?? 1, 0.1 * (losses.first ?? 0))
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(PEFTAdapter.configFile).path))

        let trained = try LlamaModel.load(from: out)
        for (prompt, answer) in examples {
            let ids = try trained.promptTokens(for: [ChatMessage(role: "user", content: prompt)])
            let text = try DecodingSession(model: trained, threads: 1).generate(promptTokens: ids, options: .greedy(maxTokens: 6)).text
            XCTAssertEqual(text, answer, "the saved model answers \(prompt)")
        }
        // The saved weights are the trained ones: a trainable model from the folder (Hugging Face
        // row order) gives the fast path's logits of the same folder.
        let reread = TrainableLlama(trained)
        let tokens = [256, 97, 98, 99, 10, 120]
        let reference = try noGrad { try reread.logits(tokens, batch: 1, length: tokens.count) }.toArray()
        let fast = try DecodingSession(model: trained, threads: 1).logits(for: tokens).flatMap { $0 }
        XCTAssertEqual(reference.count, fast.count)
        XCTAssertLessThan(zip(reference, fast).map { abs($0 - $1) }.max() ?? 1, 1e-3)

        // Resume: 4 steps with a checkpoint at 2, against 4 straight.
        let whole = folder.appendingPathComponent("whole"), cut = folder.appendingPathComponent("cut")
        _ = try Finetune.sft(model: model, data: data, output: whole, options: options(steps: 4), baseModelName: "tiny")
        var o = options(steps: 4)
        o.saveEvery = 2
        let calls = Counter()
        let first = try Finetune.sft(model: model, data: data, output: cut, options: o, baseModelName: "tiny",
                                     shouldStop: { calls.next() >= 2 })
        let checkpoint = try XCTUnwrap(first.interruptedCheckpoint)
        XCTAssertNotNil(try? LlamaModel.load(from: checkpoint), "a checkpoint of full training is a usable model folder")
        o.resume = checkpoint
        _ = try Finetune.sft(model: model, data: data, output: cut, options: o, baseModelName: "tiny")
        let a = try SafeTensorsFile(url: whole.appendingPathComponent("model.safetensors"))
        let b = try SafeTensorsFile(url: cut.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(a.names.sorted(), b.names.sorted())
        for key in a.names {
            let diff = zip(try a.tensor(key).toArray(), try b.tensor(key).toArray()).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(diff, 1e-6, key)
        }
    }

    /// Full DPO: the reference is the original weights, so the first step's loss is ln 2.
    func testFullDPOStartsAtLn2() throws {
        let model = try huggingFaceModel(seed: 5, separateHead: true)
        let data = try write([json(["prompt": "a", "chosen": "xyz", "rejected": "uvw"]), json(["prompt": "b", "chosen": "pqr", "rejected": "stu"])], "dpo.jsonl")
        var reports: [FinetuneProgress] = []
        var o = options(steps: 6)
        o.batchSize = 2
        _ = try Finetune.dpo(model: model, data: data, output: folder.appendingPathComponent("dpo"), options: o, dpo: DPOOptions(),
                             baseModelName: "tiny", progress: { reports.append($0) })
        XCTAssertEqual(reports.first?.loss ?? 0, Foundation.log(2), accuracy: 1e-4)
        XCTAssertLessThan(reports.last?.loss ?? 1, reports.first?.loss ?? 0)
        XCTAssertGreaterThan(reports.last?.metrics["rewards/margins"] ?? 0, 0)
    }

    func testQuantizedModelsAndAdaptersAreRefusedWithTheReason() throws {
        let url = folder.appendingPathComponent("q8.gguf")
        try TinyLlama(seed: 3).gguf(matrices: (8, BlockQuantizer.q8_0)).write(to: url)
        let quantized = try LlamaModel.load(from: url)
        XCTAssertThrowsError(try TrainableLlama(quantized).makeFullyTrainable()) { error in
            XCTAssertTrue("\(error)".contains("quantized") && "\(error)".contains("LoRA"), "\(error)")
        }
        var o = options(steps: 1)
        o.initialAdapter = folder
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("rag adapter merge"), "\($0)") }
        let model = try huggingFaceModel(seed: 5, separateHead: false)
        let prompts = try write([json(["prompt": "a"])], "p.jsonl")
        XCTAssertThrowsError(try Finetune.ppo(model: model, data: prompts, output: folder, options: options(steps: 1), ppo: PPOOptions(),
                                              reward: { _, _ in 0 }, baseModelName: "tiny")) { XCTAssertTrue("\($0)".contains("--full"), "\($0)") }
    }
}
