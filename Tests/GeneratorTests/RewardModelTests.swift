// `rag finetune rm` on a tiny random Llama: the Bradley–Terry loss and its derivative, the
// reward's gradients through the value head, the last-token gather and the LoRA updates against
// finite differences, training that learns a preference, and the saved head and adapter scoring
// the same after reloading (`rag score`).

import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class RewardModelTests: TemporaryFolderTestCase {
    private func tinyModel(seed: UInt64 = 21) throws -> LlamaModel { try TinyLlama.loadGGUF(seed: seed, in: folder) }

    func testBradleyTerryLossAndDerivative() {
        XCTAssertEqual(RewardObjective.loss(margin: 0).0, Foundation.log(2), accuracy: 1e-12)
        for m in [-40.0, -3, -0.2, 0, 0.5, 4, 40] {
            let (l, d) = RewardObjective.loss(margin: m)
            let h = 1e-5
            let numeric = (RewardObjective.loss(margin: m + h).0 - RewardObjective.loss(margin: m - h).0) / (2 * h)
            XCTAssertEqual(d, numeric, accuracy: 1e-6, "margin \(m)")
            XCTAssertEqual(l, Foundation.log1p(Foundation.exp(-m)), accuracy: 1e-9 * max(1, abs(m)), "margin \(m)")
            XCTAssertTrue(l.isFinite && d.isFinite)
        }
    }

    /// d(Σ_b c_b · r_b)/dθ for the head, and LoRA updates of both layers, through rows of different lengths.
    func testRewardGradientsMatchFiniteDifferences() throws {
        let trainable = TrainableLlama(try tinyModel(seed: 4))
        try trainable.addLoRA(LoRAOptions(rank: 2, alpha: 4, targets: ["q_proj", "down_proj"]), seed: 2)
        trainable.addValueHead(seed: 3)
        var rng = TensorRNG(seed: 5)
        for (key, p) in trainable.trainableParameters where key.hasSuffix("lora_B.weight") {
            p.assignValues(Tensor.randn(p.shape, std: 0.2, rng: &rng))
        }
        let batch = RightPadded([[72, 101, 108, 108, 111, 44, 32], [119, 111, 114], [3, 200, 5, 99, 0, 257]], padID: 0)
        let weights: [Float] = [1, -2, 0.5]
        func objective() throws -> Double {
            let r = try trainable.rewards(batch.ids, lengths: batch.lengths, batch: batch.rows, length: batch.length).toArray()
            return zip(r, weights).reduce(0) { $0 + Double($1.0 * $1.1) }
        }
        let params = trainable.trainableParameters
        params.forEach { $0.1.zeroGrad() }
        let r = try trainable.rewards(batch.ids, lengths: batch.lengths, batch: batch.rows, length: batch.length)
        XCTAssertEqual(r.shape, [3])
        r.backward(gradient: try Tensor(weights, shape: [3]))
        let checked = try assertGradientsMatchFiniteDifferences(params, samples: 5, absolute: 2e-3, objective: objective)
        XCTAssertTrue(params.contains { $0.0 == "score.weight" })
        XCTAssertGreaterThan(checked, 20)
    }

    /// Padding after a row's last token must not change its reward.
    func testRewardIsTheLastRealTokensAndIgnoresPadding() throws {
        let trainable = TrainableLlama(try tinyModel(seed: 6))
        trainable.addValueHead(seed: 1)
        let alone = try noGrad { try trainable.rewards([72, 101, 108], lengths: [3], batch: 1, length: 3) }.toArray()[0]
        let padded = try noGrad { try trainable.rewards([72, 101, 108, 0, 0, 119, 111, 114, 108, 100], lengths: [3, 5], batch: 2, length: 5) }.toArray()
        XCTAssertEqual(padded[0], alone, accuracy: 1e-5)
        XCTAssertNotEqual(padded[1], alone)
        XCTAssertThrowsError(try trainable.rewards([1, 2], lengths: [3], batch: 1, length: 2))
    }

    func testRewardModelLearnsThePreferenceAndScoresTheSameAfterReloading() throws {
        let model = try tinyModel()
        let pairs = [("a", "xyz", "uvw"), ("b", "pqr", "stu"), ("c", "klm", "nop"), ("d", "efg", "hij")]
        let data = try write(pairs.map { json(["prompt": $0.0, "chosen": $0.1, "rejected": $0.2]) }, "pref.jsonl")
        var o = FinetuneOptions()
        o.epochs = 1000; o.maxSteps = 40; o.learningRate = 1e-2; o.warmupRatio = 0; o.batchSize = 4; o.gradAccum = 1
        o.lora = LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["all-linear"])
        o.maxLength = 64
        let out = folder.appendingPathComponent("rm")
        var reports: [FinetuneProgress] = []
        _ = try Finetune.rm(model: model, data: data, output: out, options: o, baseModelName: "tiny", progress: { reports.append($0) })
        let first = try XCTUnwrap(reports.first), last = try XCTUnwrap(reports.last)
        print("RM tiny: loss \(first.loss) → \(last.loss), accuracy \(last.metrics["accuracy"] ?? 0), margin \(last.metrics["margin"] ?? 0)")
        XCTAssertEqual(first.loss, Foundation.log(2), accuracy: 0.05, "a fresh head (std 0.02) scores both replies about equally")
        XCTAssertLessThan(last.loss, 0.1)
        XCTAssertEqual(last.metrics["accuracy"] ?? 0, 1)
        XCTAssertGreaterThan(last.metrics["margin"] ?? 0, 2)
        for key in ["rewards/chosen", "rewards/rejected"] { XCTAssertNotNil(last.metrics[key], key) }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(TrainableLlama.valueHeadFile).path))
        XCTAssertNotNil(try model.adapted(by: out).adapter, "the reward model's adapter is an ordinary PEFT adapter")

        let scorer = try RewardScorer(model: model, directory: out)
        for (prompt, chosen, rejected) in pairs {
            let user = [ChatMessage(role: "user", content: prompt)]
            let good = try scorer.reward(prompt: user, response: [ChatMessage(role: "assistant", content: chosen)])
            let bad = try scorer.reward(prompt: user, response: [ChatMessage(role: "assistant", content: rejected)])
            XCTAssertGreaterThan(good, bad, prompt)
        }
        let queries = try write([json(["prompt": "a", "response": "xyz", "id": 7]), json(["prompt": [["role": "user", "content": "a"]], "response": "uvw"])], "q.jsonl")
        let lines = try scorer.scoreFile(queries)
        XCTAssertEqual(lines.count, 2)
        let scored = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(scored[0]["id"] as? Int, 7, "the record's own fields are kept")
        let r0 = try XCTUnwrap(scored[0]["reward"] as? Double), r1 = try XCTUnwrap(scored[1]["reward"] as? Double)
        XCTAssertGreaterThan(r0, r1)

        // An SFT adapter written into the same folder replaces the reward model whole: no stale head.
        var sft = o
        sft.maxSteps = 1
        _ = try Finetune.sft(model: model, data: try write([json(["prompt": "a", "completion": "xyz"])], "sft.jsonl"), output: out,
                             options: sft, baseModelName: "tiny")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(TrainableLlama.valueHeadFile).path))

        let bad = try write([json(["prompt": "a"])], "bad.jsonl")
        XCTAssertThrowsError(try scorer.scoreFile(bad)) { error in
            XCTAssertTrue("\(error)".contains("bad.jsonl") && "\(error)".contains("response"), "\(error)")
        }
        XCTAssertThrowsError(try RewardScorer(model: model, directory: folder)) { error in
            XCTAssertTrue("\(error)".contains("adapter_config.json") || "\(error)".contains(TrainableLlama.valueHeadFile), "\(error)")
        }
    }
}
