// `rag finetune` on a tiny random Llama (GGUF, quantized-style frozen base): SFT learns a few
// examples until greedy generation answers them, DPO starts at loss ln 2 with zero rewards and its
// accuracies and margins rise, runs are deterministic and resume exactly, data is detected and bad
// data reported by file, line and field, and chats are encoded with the assistant's tokens marked.

import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class FinetuneTests: TemporaryFolderTestCase {
    private func tinyModel(seed: UInt64 = 21) throws -> LlamaModel { try TinyLlama.loadGGUF(seed: seed, in: folder) }

    private let examples = [("a", "xyz"), ("b", "pqr"), ("c", "klm")]

    private func sftOptions(steps: Int) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.epochs = 1000; o.maxSteps = steps; o.learningRate = 2e-2; o.warmupRatio = 0; o.batchSize = 3; o.gradAccum = 1
        o.lora = LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["all-linear"])
        o.maxLength = 64
        return o
    }

    func testSFTLearnsExamplesAndGreedyGenerationReproducesThem() throws {
        let model = try tinyModel()
        let data = try write(examples.map { json(["prompt": $0.0, "completion": $0.1]) }, "sft.jsonl")
        let out = folder.appendingPathComponent("sft-out")
        var summary: DatasetSummary?
        var losses: [Double] = []
        let result = try Finetune.sft(model: model, data: data, output: out, options: sftOptions(steps: 80), baseModelName: "tiny",
                                      onData: { summary = $0 }, progress: { if !$0.isEvaluation { losses.append($0.loss) } })
        XCTAssertEqual(summary?.format, "prompt-completion")
        XCTAssertEqual(summary?.examples, 3)
        XCTAssertEqual(result.steps, 80)
        print("SFT tiny: loss \(losses.first ?? 0) → \(losses.last ?? 0)")
        XCTAssertGreaterThan(losses.first ?? 0, 1)
        XCTAssertLessThan(losses.last ?? 1, 0.05)
        let adapted = try model.adapted(by: out)
        for (prompt, answer) in examples {
            let gen = DecodingSession(model: adapted, threads: 1)
            let ids = try adapted.promptTokens(for: [ChatMessage(role: "user", content: prompt)])
            let text = try gen.generate(promptTokens: ids, options: .greedy(maxTokens: 6)).text
            XCTAssertEqual(text, answer, "prompt \(prompt)")
        }
    }

    func testSameRunTwiceAndResumedRunGiveTheSameAdapter() throws {
        let model = try tinyModel()
        let data = try write(examples.map { json(["instruction": $0.0, "output": $0.1]) }, "alpaca.json")
        var o = sftOptions(steps: 4)
        o.batchSize = 1; o.gradAccum = 2; o.lora.dropout = 0.1; o.lora.targets = ["q_proj", "v_proj"]
        func adapterValues(_ dir: URL) throws -> [String: [Float]] {
            let peft = try PEFTAdapter(directory: dir)
            return peft.modules.mapValues { $0.a.toArray() + $0.b.toArray() }
        }
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b"), c = folder.appendingPathComponent("c")
        _ = try Finetune.sft(model: model, data: data, output: a, options: o, baseModelName: "tiny")
        _ = try Finetune.sft(model: model, data: data, output: b, options: o, baseModelName: "tiny")
        XCTAssertEqual(try adapterValues(a), try adapterValues(b), "the same command twice gives the same adapter")

        let stop = StopFlag()
        let interrupted = try Finetune.sft(model: model, data: data, output: c, options: o, baseModelName: "tiny",
                                           shouldStop: { stop.isSet }, progress: { if $0.step == 2 { stop.set() } })
        let checkpoint = try XCTUnwrap(interrupted.interruptedCheckpoint)
        XCTAssertEqual(checkpoint.lastPathComponent, "checkpoint-2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: c.appendingPathComponent(PEFTAdapter.weightsFile).path))
        o.resume = checkpoint
        let resumed = try Finetune.sft(model: model, data: data, output: c, options: o, baseModelName: "tiny")
        XCTAssertEqual(resumed.steps, 4)
        let va = try adapterValues(a), vc = try adapterValues(c)
        XCTAssertEqual(Set(va.keys), Set(vc.keys))
        for (k, x) in va {
            let y = vc[k] ?? []
            XCTAssertEqual(x.count, y.count)
            for (p, q) in zip(x, y) { XCTAssertEqual(p, q, accuracy: 1e-6, "resumed run differs at \(k)") }
        }
    }

    func testDPOStartsAtLn2AndLearnsThePreference() throws {
        let model = try tinyModel()
        let pairs = [("a", "xyz", "uvw"), ("b", "pqr", "stu"), ("c", "klm", "nop"), ("d", "efg", "hij")]
        let data = try write(pairs.map { json(["prompt": $0.0, "chosen": $0.1, "rejected": $0.2]) }, "pref.jsonl")
        var o = sftOptions(steps: 1)
        o.batchSize = 4; o.learningRate = 1e-2
        o.logFile = folder.appendingPathComponent("d0/train.jsonl")   // inside --out, which the run creates
        var first: FinetuneProgress?
        _ = try Finetune.dpo(model: model, data: data, output: folder.appendingPathComponent("d0"), options: o, dpo: DPOOptions(),
                             baseModelName: "tiny", progress: { if first == nil { first = $0 } })
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("d0/train.jsonl"), encoding: .utf8).contains("rewards/accuracies"))
        o.logFile = nil
        let p0 = try XCTUnwrap(first)
        XCTAssertEqual(p0.loss, Foundation.log(2), accuracy: 1e-9, "policy = reference: loss ln 2")
        XCTAssertEqual(p0.metrics["rewards/chosen"] ?? .nan, 0, accuracy: 1e-12)
        XCTAssertEqual(p0.metrics["rewards/rejected"] ?? .nan, 0, accuracy: 1e-12)
        for key in ["loss", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"] where key != "loss" {
            XCTAssertNotNil(p0.metrics[key], key)
        }

        o.maxSteps = 30
        var reports: [FinetuneProgress] = []
        _ = try Finetune.dpo(model: model, data: data, output: folder.appendingPathComponent("d1"), options: o, dpo: DPOOptions(),
                             baseModelName: "tiny", progress: { reports.append($0) })
        let last = try XCTUnwrap(reports.last)
        print("DPO tiny: loss \(reports[0].loss) → \(last.loss), accuracy \(last.metrics["rewards/accuracies"] ?? 0), margin \(last.metrics["rewards/margins"] ?? 0)")
        XCTAssertLessThan(last.loss, reports[0].loss)
        XCTAssertEqual(last.metrics["rewards/accuracies"] ?? 0, 1)
        XCTAssertGreaterThan(last.metrics["rewards/margins"] ?? 0, reports[1].metrics["rewards/margins"] ?? 0)
        XCTAssertGreaterThan(last.metrics["rewards/margins"] ?? 0, 0.1)

        for kind in [DPOLoss.ipo, .hinge] {
            var d = DPOOptions(); d.loss = kind
            o.maxSteps = 10
            var r: [FinetuneProgress] = []
            _ = try Finetune.dpo(model: model, data: data, output: folder.appendingPathComponent("d-\(kind)"), options: o, dpo: d,
                                 baseModelName: "tiny", progress: { r.append($0) })
            XCTAssertGreaterThan(r.last?.metrics["rewards/margins"] ?? 0, 0, "\(kind)")
        }
    }

    func testDPOLossFormulasAndGradients() {
        for kind in DPOLoss.allCases {
            for z in [-3.0, -0.4, 0, 0.7, 5] {
                let (_, dz) = DPOObjective.loss(z, beta: 0.1, kind: kind, smoothing: 0.1)
                let h = 1e-5
                let numeric = (DPOObjective.loss(z + h, beta: 0.1, kind: kind, smoothing: 0.1).0 - DPOObjective.loss(z - h, beta: 0.1, kind: kind, smoothing: 0.1).0) / (2 * h)
                if kind == .hinge && abs(1 - 0.1 * z) < 1e-3 { continue }
                XCTAssertEqual(dz, numeric, accuracy: 1e-6, "\(kind) at z = \(z)")
            }
        }
        XCTAssertEqual(DPOObjective.loss(0, beta: 0.1, kind: .sigmoid, smoothing: 0).0, Foundation.log(2), accuracy: 1e-12)
        XCTAssertEqual(DPOObjective.loss(0, beta: 0.1, kind: .ipo, smoothing: 0).0, 25, accuracy: 1e-9)   // (1/(2·0.1))²
        XCTAssertEqual(DPOObjective.loss(0, beta: 0.1, kind: .hinge, smoothing: 0).0, 1, accuracy: 1e-12)
    }

    func testFormatsAreDetectedAndRankingsExpanded() throws {
        let model = try tinyModel()
        let cases: [(String, String, String)] = [
            (json(["instruction": "q", "input": "ctx", "output": "a", "system": "s", "history": [["h1", "r1"]]]), "alpaca", "r1<|im_end|>a<|im_end|>"),
            (json(["messages": [["role": "user", "content": "q"], ["role": "assistant", "content": "a"]]]), "messages", "a<|im_end|>"),
            (json(["conversations": [["from": "human", "value": "q"], ["from": "gpt", "value": "a"]]]), "sharegpt", "a<|im_end|>"),
            (json(["prompt": "q", "completion": "a"]), "prompt-completion", "a<|im_end|>"),
        ]
        for (line, format, learned) in cases {
            let data = try ChatDataset(url: try write([line], "\(format).jsonl"), model: model, maxLength: 64, trainOnPrompt: false)
            XCTAssertEqual(data.format.rawValue, format)
            let s = data.sequences[0]
            // the learned tokens are exactly the assistant's replies, each with its <|im_end|>
            XCTAssertEqual(model.tokenizer.decode(s.ids.indices.filter { s.isTarget[$0] }.map { s.ids[$0] }), learned, format)
        }
        let alpaca = try ChatDataset(url: try write([cases[0].0], "alpaca2.jsonl"), model: model, maxLength: 64, trainOnPrompt: false)
        XCTAssertTrue(model.tokenizer.decode(alpaca.sequences[0].ids).contains("user\nq\nctx<|im_end|>"), "instruction and input joined by a newline")
        // a JSON array works as well as JSONL
        let array = try write(["[" + cases[3].0 + ",\n  " + cases[3].0 + "]"], "array.json")
        XCTAssertEqual(try ChatDataset(url: array, model: model, maxLength: 64, trainOnPrompt: false).sequences.count, 2)

        let ranked = try write([json(["prompt": "q", "responses": ["A", "B", "C", "D"], "ranking": [1, 0, 2, 3]])], "ranked.jsonl")
        let prefs = try PreferenceDataset(url: ranked, model: model, maxLength: 64)
        XCTAssertEqual(prefs.format, .ranked)
        XCTAssertEqual(prefs.pairs.count, 6, "B > A > C > D gives six ordered pairs")
        let byte = { (s: String) in Int(UInt8(ascii: Unicode.Scalar(s)!)) }
        let firstChosen = prefs.pairs[0].chosen, firstRejected = prefs.pairs[0].rejected
        XCTAssertTrue(firstChosen.ids.contains(byte("B")) && firstRejected.ids.contains(byte("A")))
        let sharegpt = try write([json(["conversations": [["from": "human", "value": "q"]], "chosen": ["from": "gpt", "value": "good"],
                                        "rejected": ["from": "gpt", "value": "bad"]])], "sg.jsonl")
        XCTAssertEqual(try PreferenceDataset(url: sharegpt, model: model, maxLength: 64).format, .sharegpt)
    }

    func testLongSequencesAreCutAndCounted() throws {
        let model = try tinyModel()
        let long = String(repeating: "z", count: 80)
        let data = try ChatDataset(url: try write([json(["prompt": "q", "completion": long]), json(["prompt": String(repeating: "p", count: 80), "completion": "a"])], "long.jsonl"),
                                   model: model, maxLength: 40, trainOnPrompt: false)
        XCTAssertEqual(data.truncated, 2)
        XCTAssertEqual(data.dropped, 1, "a prompt longer than the limit leaves nothing to learn")
        XCTAssertEqual(data.sequences.count, 1)
        XCTAssertEqual(data.sequences[0].ids.count, 40)
    }

    func testBadDataNamesFileLineAndField() throws {
        let model = try tinyModel()
        func message(_ lines: [String], _ name: String) -> String {
            do {
                _ = try ChatDataset(url: try write(lines, name), model: model, maxLength: 64, trainOnPrompt: false)
                return "no error"
            } catch { return "\(error)" }
        }
        let good = json(["instruction": "q", "output": "a"])
        XCTAssertTrue(message([good, "{not json"], "bad.jsonl").contains("bad.jsonl:2"), message([good, "{not json"], "bad.jsonl"))
        let missing = message([good, "", json(["instruction": "q"])], "missing.jsonl")
        XCTAssertTrue(missing.contains("missing.jsonl:3") && missing.contains("'output'"), missing)
        XCTAssertTrue(message([""], "empty.jsonl").contains("empty"))
        let role = message([json(["messages": [["role": "wizard", "content": "x"]]])], "role.jsonl")
        XCTAssertTrue(role.contains("role.jsonl:1") && role.contains("messages[0].role"), role)
        XCTAssertThrowsError(try Finetune.sft(model: model, data: try write([good], "ok.jsonl"), output: folder.appendingPathComponent("x"),
                                              options: { var o = sftOptions(steps: 1); o.lora.targets = ["qq_proj"]; return o }(),
                                              baseModelName: "tiny")) { error in
            XCTAssertTrue("\(error)".contains("qq_proj"))
        }
    }

    func testChatEncodingMatchesRenderedTextAndMarksTheAssistant() throws {
        var models = [try tinyModel()]
        if let real = try? RealModel.load() { models.append(real) }
        let messages = [ChatMessage(role: "user", content: "Hi there, <|im_end|> friend"), ChatMessage(role: "assistant", content: "Hello! How are you?"),
                        ChatMessage(role: "user", content: "fine"), ChatMessage(role: "assistant", content: " ok\nbye")]
        for model in models {
            let e = try model.chatTemplate.encode(messages, tokenizer: model.tokenizer, addGenerationPrompt: false)
            XCTAssertEqual(e.ids.count, e.isAssistant.count)
            let end = try XCTUnwrap(model.tokenizer.id(of: "<|im_end|>"))
            // The assistant's tokens decode to its two replies, each closed by <|im_end|>.
            let marked = e.ids.indices.filter { e.isAssistant[$0] }.map { e.ids[$0] }
            XCTAssertEqual(model.tokenizer.decode(marked), "Hello! How are you?<|im_end|> ok\nbye<|im_end|>")
            XCTAssertEqual(marked.filter { $0 == end }.count, 2, "the <|im_end|> written in user text stays text")
            let prompt = try model.chatTemplate.encode(Array(messages.prefix(1)), tokenizer: model.tokenizer, addGenerationPrompt: true)
            let plain = [ChatMessage(role: "user", content: "What is RAG?")]
            XCTAssertEqual(try model.chatTemplate.encode(plain, tokenizer: model.tokenizer, addGenerationPrompt: true).ids,
                           try model.promptTokens(for: plain), "same ids as inference's prompt")
            XCTAssertFalse(prompt.isAssistant.contains(true))
        }
    }
}

/// A flag set from one closure and read from another (the shouldStop of a run).
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

final class ClassificationTests: TemporaryFolderTestCase {
    func testCSVClassificationTrainsAndEvaluates() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 21).gguf().write(to: url)
        let model = try LlamaModel.load(from: url)
        let rows = ["text,label", "\"great, loved it\",positive", "awful,negative", "\"so \"\"good\"\"\",positive", "bad,negative",
                    "\"这部电影很好\",positive", "terrible,negative"]
        let data = folder.appendingPathComponent("reviews.csv")
        try rows.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
        let parsed = try ChatDataset(url: data, model: model, maxLength: 64, trainOnPrompt: false)
        XCTAssertEqual(parsed.format, .classification)
        XCTAssertEqual(parsed.sequences.count, 6)
        XCTAssertTrue(model.tokenizer.decode(parsed.sequences[2].ids).contains("so \"good\""))
        let before = try Finetune.evaluateClassification(model: model, adapter: nil, data: data, evalSplit: 0, seed: 1)
        var o = FinetuneOptions()
        o.epochs = 1000; o.maxSteps = 60; o.learningRate = 2e-2; o.warmupRatio = 0; o.batchSize = 6; o.gradAccum = 1
        o.lora = LoRAOptions(rank: 8, alpha: 16, targets: ["all-linear"]); o.maxLength = 64
        let out = folder.appendingPathComponent("cls")
        _ = try Finetune.sft(model: model, data: data, output: out, options: o, baseModelName: "tiny")
        let after = try Finetune.evaluateClassification(model: model, adapter: out, data: data, evalSplit: 0, seed: 1)
        print("classification: accuracy \(before.accuracy) → \(after.accuracy), macro-F1 \(before.macroF1) → \(after.macroF1)")
        XCTAssertEqual(after.labels, ["negative", "positive"])
        XCTAssertEqual(after.accuracy, 1)
        XCTAssertEqual(after.macroF1, 1, accuracy: 1e-12)

        let missing = folder.appendingPathComponent("bad.csv")
        try "text,label\nonly text here\n".write(to: missing, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ChatDataset(url: missing, model: model, maxLength: 64, trainOnPrompt: false)) { error in
            XCTAssertTrue("\(error)".contains("bad.csv:2") && "\(error)".contains("label"), "\(error)")
        }
    }
}
