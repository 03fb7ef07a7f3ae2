// The other parameter-efficient methods (`--peft prompt|ia3|bitfit`), on a tiny GGUF model (q/k
// rows in GGUF's order): gradients against finite differences, (IA)³ and BitFit starting as the
// base model, each kind trained and written in its layout, and loaded for inference (`adapted(by:)`:
// folded or with virtual tokens) giving the trained model's logits on the fast path; DPO from an
// (IA)³ adapter keeps it as the reference; what cannot be merged or trained says why.

import Foundation
import SeededRandom
import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class PEFTMethodsTests: TemporaryFolderTestCase {
    private func tinyModel() throws -> LlamaModel { try TinyLlama.loadGGUF(seed: 17, in: folder) }

    private func add(_ kind: PEFTMethod, to t: TrainableLlama) throws {
        switch kind {
        case .ia3: try t.addIA3(layers: nil)
        case .bitfit: try t.addBitFit()
        case .prompt: try t.addPromptTuning(virtualTokens: 3, seed: 2)
        default: XCTFail("\(kind)")
        }
    }

    private let ids = [256, 72, 101, 108, 108, 111, 256, 119, 111, 114, 108, 100]
    private let targets = [-100, 101, 108, -100, 111, 256, -100, 111, 114, 108, 100, -100]

    func testGradientsMatchFiniteDifferencesAndIA3AndBitFitStartAsTheBase() throws {
        let model = try tinyModel()
        for kind in [PEFTMethod.ia3, .bitfit, .prompt] {
            let t = TrainableLlama(model)
            try add(kind, to: t)
            XCTAssertEqual(t.method, kind)
            if kind != .prompt {
                let base = try noGrad { try t.logits(ids, batch: 2, length: 6, mode: .off) }.toArray()
                let start = try noGrad { try t.logits(ids, batch: 2, length: 6) }.toArray()
                XCTAssertLessThan(zip(base, start).map { abs($0 - $1) }.max() ?? 1, 1e-5, "\(kind) starts as the base model")
            }
            var rng = SplitMix64(seed: 4)
            for (_, p) in t.trainableParameters {
                for i in 0..<p.count { p.data[i] += Float(rng.nextUnit() - 0.5) * 0.2 }
                p.storage.markModified()
            }
            let logp = try t.targetLogProbs(ids, targets: targets, batch: 2, length: 6)
            logp.sum().backward()
            let checked = try assertGradientsMatchFiniteDifferences(t.trainableParameters, samples: 10, eps: 3e-3, absolute: 5e-3,
                                                                    relative: 3e-2, label: kind.rawValue) {
                try t.targetLogProbs(ids, targets: targets, batch: 2, length: 6).toArray().reduce(0) { $0 + Double($1) }
            }
            XCTAssertGreaterThan(checked, 10, kind.rawValue)
        }
    }

    /// SFT with each kind: the loss falls, the folder says what it is, and the model loaded with it
    /// for inference (folded / virtual tokens, fast path) gives the trained model's logits.
    func testEachKindTrainsSavesAndLoadsForInference() throws {
        let model = try tinyModel()
        let data = try write([("a", "xyz"), ("b", "pqr"), ("c", "klm")].map { json(["prompt": $0.0, "completion": $0.1]) }, "sft.jsonl")
        let expected: [PEFTMethod: (type: String, key: String)] = [
            .ia3: ("IA3", "base_model.model.model.layers.0.self_attn.k_proj.ia3_l"),
            .bitfit: ("BITFIT", "model.layers.1.post_attention_layernorm.weight"),
            .prompt: ("PROMPT_TUNING", "prompt_embeddings"),
        ]
        for kind in [PEFTMethod.ia3, .bitfit, .prompt] {
            var o = FinetuneOptions()
            o.epochs = 1000; o.maxSteps = 25; o.learningRate = 5e-2; o.warmupRatio = 0; o.batchSize = 3; o.gradAccum = 1
            o.maxLength = 48; o.peft = kind; o.numVirtualTokens = 4
            let out = folder.appendingPathComponent("out-\(kind.rawValue)")
            var losses: [Double] = []
            _ = try Finetune.sft(model: model, data: data, output: out, options: o, baseModelName: "tiny", progress: { losses.append($0.loss) })
            print("\(kind.rawValue) tiny: loss \(losses.first ?? 0) → \(losses.last ?? 0)")
            XCTAssertLessThan(losses.last ?? 9, 0.8 * (losses.first ?? 0), kind.rawValue)
            let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent(PEFTAdapter.configFile))) as? [String: Any])
            XCTAssertEqual(config["peft_type"] as? String, expected[kind]?.type)
            let file = try SafeTensorsFile(url: out.appendingPathComponent(PEFTAdapter.weightsFile))
            XCTAssertNotNil(file.info(expected[kind]?.key ?? ""), "\(kind): \(file.names.prefix(4))")
            if kind == .ia3 {
                XCTAssertEqual(file.info("base_model.model.model.layers.0.self_attn.k_proj.ia3_l")?.shape, [TinyLlama.kvHeads * TinyLlama.headDim, 1])
                XCTAssertEqual(file.info("base_model.model.model.layers.0.mlp.down_proj.ia3_l")?.shape, [1, TinyLlama.hidden])
            }

            let adapted = try model.adapted(by: out)
            XCTAssertEqual(adapted.adapterName, out.lastPathComponent)
            let trained = TrainableLlama(model)
            try trained.startFrom(adapter: out, dropout: 0, seed: 0)
            let tokens = try model.promptTokens(for: [ChatMessage(role: "user", content: "b")]) + [112, 113]
            let reference = try noGrad { try trained.logits(tokens, batch: 1, length: tokens.count) }.toArray()
            let fast = try DecodingSession(model: adapted, threads: 1).logits(for: tokens).flatMap { $0 }
            XCTAssertEqual(reference.count, fast.count)
            XCTAssertLessThan(zip(reference, fast).map { abs($0 - $1) }.max() ?? 1, 2e-3, "\(kind): the loaded adapter is the trained one")
            let base = try DecodingSession(model: model, threads: 1).logits(for: tokens).flatMap { $0 }
            XCTAssertGreaterThan(zip(base, fast).map { abs($0 - $1) }.max() ?? 0, 1e-2, "\(kind): and it changed the model")
        }
    }

    /// DPO from an (IA)³ SFT adapter: the reference is that adapter, so the first loss is ln 2.
    func testDPOFromAnIA3AdapterKeepsItAsTheReference() throws {
        let model = try tinyModel()
        var o = FinetuneOptions()
        o.maxSteps = 5; o.learningRate = 5e-2; o.warmupRatio = 0; o.batchSize = 2; o.gradAccum = 1; o.maxLength = 48; o.peft = .ia3
        let sft = folder.appendingPathComponent("sft")
        _ = try Finetune.sft(model: model, data: try write([json(["prompt": "a", "completion": "xyz"]), json(["prompt": "b", "completion": "pqr"])], "s.jsonl"),
                             output: sft, options: o, baseModelName: "tiny")
        var d = o
        d.peft = .lora          // the folder says what it is
        d.initialAdapter = sft
        var reports: [FinetuneProgress] = []
        _ = try Finetune.dpo(model: model, data: try write([json(["prompt": "a", "chosen": "xyz", "rejected": "uvw"]),
                                                           json(["prompt": "b", "chosen": "pqr", "rejected": "stu"])], "d.jsonl"),
                             output: folder.appendingPathComponent("dpo"), options: d, dpo: DPOOptions(), baseModelName: "tiny",
                             progress: { reports.append($0) })
        XCTAssertEqual(reports.first?.loss ?? 0, Foundation.log(2), accuracy: 1e-4)
        XCTAssertLessThan(reports.last?.loss ?? 1, reports.first?.loss ?? 0)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("dpo/adapter_config.json"))) as? [String: Any])
        XCTAssertEqual(config["peft_type"] as? String, "IA3")

        d.peft = .bitfit
        XCTAssertThrowsError(try Finetune.dpo(model: model, data: folder.appendingPathComponent("d.jsonl"), output: folder.appendingPathComponent("x"),
                                              options: d, dpo: DPOOptions(), baseModelName: "tiny")) {
            XCTAssertTrue("\($0)".contains("bitfit") && "\($0)".contains("ia3"), "\($0)")
        }
    }

    func testWhatCannotBeDoneSaysWhy() throws {
        let model = try tinyModel()
        let t = TrainableLlama(model)
        try t.addPromptTuning(virtualTokens: 2, seed: 1)
        let out = folder.appendingPathComponent("prompt")
        try t.saveTrained(to: out, baseModelName: "tiny")
        XCTAssertThrowsError(try model.adapted(by: out).writeMerged(to: folder.appendingPathComponent("merged"))) {
            XCTAssertTrue("\($0)".contains("cannot be merged"), "\($0)")
        }
        XCTAssertThrowsError(try model.adapted(by: out).adapted(by: out)) { XCTAssertTrue("\($0)".contains("already has an adapter"), "\($0)") }

        let hf = folder.appendingPathComponent("hf")
        try TinyLlama(seed: 2).writeHuggingFace(to: hf)
        var o = FinetuneOptions()
        o.peft = .qlora; o.maxSteps = 1
        XCTAssertThrowsError(try Finetune.sft(model: try LlamaModel.load(from: hf), data: try write([json(["prompt": "a", "completion": "b"])], "q.jsonl"),
                                              output: folder.appendingPathComponent("q"), options: o, baseModelName: "tiny")) {
            XCTAssertTrue("\($0)".contains("not quantized") && "\($0)".contains("--peft lora"), "\($0)")
        }
        // An (IA)³ adapter merges: the folded weights are written out.
        let ia3 = TrainableLlama(model)
        try ia3.addIA3(layers: [1])
        for (_, p) in ia3.trainableParameters { p.data[0] = 1.5; p.storage.markModified() }
        let ia3Out = folder.appendingPathComponent("ia3")
        try ia3.saveTrained(to: ia3Out, baseModelName: "tiny")
        let merged = folder.appendingPathComponent("merged-ia3")
        try model.adapted(by: ia3Out).writeMerged(to: merged)
        let reloaded = try LlamaModel.load(from: merged)
        let tokens = [256, 97, 98, 99]
        let a = try DecodingSession(model: reloaded, threads: 1).logits(for: tokens).flatMap { $0 }
        let b = try DecodingSession(model: try model.adapted(by: ia3Out), threads: 1).logits(for: tokens).flatMap { $0 }
        XCTAssertLessThan(zip(a, b).map { abs($0 - $1) }.max() ?? 1, 1e-3)
    }
}
