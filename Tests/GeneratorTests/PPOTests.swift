// PPO (`rag finetune ppo`): its arithmetic on numbers worked by hand, the gradients of its loss
// through the policy's LoRA and the critic against finite differences, and whole runs on the tiny
// model: a reward that PPO raises, the logs, checkpoints that resume to the same adapter, and a
// reward model from `rag finetune rm` as the scorer.

import Foundation
import SeededRandom
import Tensor
import Tokenizers
import XCTest
@testable import Generator

final class PPOTests: TemporaryFolderTestCase {
    private func tinyModel(seed: UInt64 = 31) throws -> LlamaModel { try TinyLlama.loadGGUF(seed: seed, in: folder) }

    private func write(_ objects: [[String: Any]], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let lines = try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    // MARK: - arithmetic

    func testRewardsAndAdvantagesByHand() {
        let (rewards, kl) = PPOMath.rewards(score: 2, logpOld: [-1, -2], logpRef: [-1.5, -1], klCoef: 0.1)
        XCTAssertEqual(kl, [0.5, -1])
        XCTAssertEqual(rewards[0], -0.05, accuracy: 1e-12)
        XCTAssertEqual(rewards[1], 2.1, accuracy: 1e-12, "the score lands on the last token")
        // γ 1, λ 0.95, V = [0.5, 1.0]: δ1 = 2.1 − 1.0 = 1.1, A1 = 1.1; δ0 = −0.05 + 1.0 − 0.5 = 0.45, A0 = 0.45 + 0.95·1.1.
        let (a, r) = PPOMath.gae(rewards: rewards, values: [0.5, 1.0], gamma: 1, lambda: 0.95)
        XCTAssertEqual(a[1], 1.1, accuracy: 1e-12)
        XCTAssertEqual(a[0], 1.495, accuracy: 1e-12)
        XCTAssertEqual(r[0], 1.995, accuracy: 1e-12)
        XCTAssertEqual(r[1], 2.1, accuracy: 1e-12)
        // γ 0.9, λ 1: A_t is the discounted return minus V_t (Monte Carlo).
        let (b, _) = PPOMath.gae(rewards: [1, 0, 3], values: [0.2, 0.4, 0.6], gamma: 0.9, lambda: 1)
        XCTAssertEqual(b[0], 1 + 0.81 * 3 - 0.2, accuracy: 1e-12)
        XCTAssertEqual(b[1], 0.9 * 3 - 0.4, accuracy: 1e-12)
        XCTAssertEqual(b[2], 3 - 0.6, accuracy: 1e-12)

        let w = PPOMath.whiten([[1, 2], [3, 4, 5]]).flatMap { $0 }
        XCTAssertEqual(w.reduce(0, +), 0, accuracy: 1e-9)
        XCTAssertEqual(w.reduce(0) { $0 + $1 * $1 } / 4, 1, accuracy: 1e-6, "unbiased variance 1")
    }

    func testClippedLossesPickTheLargerTermAndTheirDerivatives() {
        let eps = 0.2
        // Inside the clip range both terms agree: −A·ρ, derivative −A·ρ.
        var p = PPOMath.policyLoss(logp: 0.1, logpOld: 0, advantage: 2, clip: eps)
        XCTAssertEqual(p.loss, -2 * exp(0.1), accuracy: 1e-12)
        XCTAssertEqual(p.dLogp, -2 * exp(0.1), accuracy: 1e-12)
        XCTAssertFalse(p.clipped)
        // ρ = e^0.5 > 1.2 with A > 0: the clipped term wins, flat in log π.
        p = PPOMath.policyLoss(logp: 0.5, logpOld: 0, advantage: 2, clip: eps)
        XCTAssertEqual(p.loss, -2 * 1.2, accuracy: 1e-12)
        XCTAssertEqual(p.dLogp, 0)
        XCTAssertTrue(p.clipped)
        // The same ratio with A < 0 is pessimistic the other way: unclipped.
        p = PPOMath.policyLoss(logp: 0.5, logpOld: 0, advantage: -2, clip: eps)
        XCTAssertEqual(p.loss, 2 * exp(0.5), accuracy: 1e-12)
        XCTAssertFalse(p.clipped)
        // ρ = e^−0.5 < 0.8 with A < 0: clipped.
        p = PPOMath.policyLoss(logp: -0.5, logpOld: 0, advantage: -2, clip: eps)
        XCTAssertEqual(p.loss, 2 * 0.8, accuracy: 1e-12)
        XCTAssertTrue(p.clipped)
        for (logp, a) in [(0.1, 2.0), (-0.05, -1.0), (-0.5, 3.0), (0.5, -3.0)] {   // derivative against differences
            let h = 1e-6
            let numeric = (PPOMath.policyLoss(logp: logp + h, logpOld: 0, advantage: a, clip: eps).loss
                - PPOMath.policyLoss(logp: logp - h, logpOld: 0, advantage: a, clip: eps).loss) / (2 * h)
            XCTAssertEqual(PPOMath.policyLoss(logp: logp, logpOld: 0, advantage: a, clip: eps).dLogp, numeric, accuracy: 1e-6)
        }

        // Value: V moved 0.5 from V_old towards R: the clipped V (0.2 away) is further from R and wins.
        var v = PPOMath.valueLoss(value: 1.5, valueOld: 1, ret: 3, clip: eps)
        XCTAssertEqual(v.loss, 0.5 * 1.8 * 1.8, accuracy: 1e-12)
        XCTAssertEqual(v.dValue, 0, "outside the clip range the clipped value does not move with V")
        XCTAssertTrue(v.clipped)
        v = PPOMath.valueLoss(value: 1.1, valueOld: 1, ret: 3, clip: eps)
        XCTAssertEqual(v.loss, 0.5 * 1.9 * 1.9, accuracy: 1e-12)
        XCTAssertEqual(v.dValue, -1.9, accuracy: 1e-12)
        v = PPOMath.valueLoss(value: 0.5, valueOld: 1, ret: 3, clip: eps)   // moved away from R: unclipped is larger
        XCTAssertEqual(v.loss, 0.5 * 2.5 * 2.5, accuracy: 1e-12)
        XCTAssertEqual(v.dValue, -2.5, accuracy: 1e-12)
    }

    func testAdaptiveKLCoefficientMovesTowardsTheTarget() {
        var fixed = KLController(value: 0.05, target: nil, horizon: 100)
        fixed.update(meanKL: 10, responses: 8)
        XCTAssertEqual(fixed.value, 0.05)
        var adaptive = KLController(value: 0.05, target: 1, horizon: 100)
        adaptive.update(meanKL: 10, responses: 8)                     // far above: +20 % × 8/100
        XCTAssertEqual(adaptive.value, 0.05 * (1 + 0.2 * 0.08), accuracy: 1e-15)
        adaptive.update(meanKL: 0.9, responses: 8)                    // 10 % below: −10 % × 8/100
        XCTAssertEqual(adaptive.value, 0.05 * (1 + 0.2 * 0.08) * (1 - 0.1 * 0.08), accuracy: 1e-15)
    }

    // MARK: - gradients

    /// The PPO loss of a micro-batch (clipped policy + vf × clipped value, per-token mean) sends the
    /// right gradient into the LoRA factors and the critic, some tokens clipped, some not.
    func testPPOLossGradientsMatchFiniteDifferences() throws {
        let model = try tinyModel()
        let trainable = TrainableLlama(model)
        try trainable.addLoRA(LoRAOptions(rank: 4, alpha: 8, dropout: 0, targets: ["all-linear"]), seed: 3)
        trainable.addCriticHead(seed: 3)
        var rng = SplitMix64(seed: 9)
        for (_, p) in trainable.trainableParameters {   // B ≠ 0 so that every factor has a gradient
            for i in 0..<p.count where p.data[i] == 0 { p.data[i] = Float(rng.nextUnit() - 0.5) * 0.2 }
            p.storage.markModified()
        }
        var ppo = PPOOptions()
        ppo.temperature = 0.8
        ppo.valueCoef = 0.5
        let step = PPOUpdate(model: trainable, ppo: ppo, batchSize: 2)
        var rollouts = [
            Rollout(prompt: 0, promptIDs: [256, 72, 105, 10], responseIDs: [119, 111, 114, 258], text: "wor", endedTurn: true),
            Rollout(prompt: 1, promptIDs: [256, 65], responseIDs: [66, 67, 68], text: "BCD", endedTurn: false),
        ]
        rollouts[0].score = 1.5
        rollouts[1].score = -0.5
        try step.measure(&rollouts, klCoef: 0.1)
        // Move the "old" policy and values away so that ratios and values fall inside and outside the clips.
        let offsets = [0.0, 0.5, -0.5, 0.05]
        for i in rollouts.indices {
            for t in rollouts[i].logpOld.indices {
                rollouts[i].logpOld[t] += offsets[(t + i) % 4]
                rollouts[i].valuesOld[t] += offsets[(t + i + 1) % 4]
                rollouts[i].advantages[t] = t % 2 == 0 ? 1.3 : -0.7
            }
        }
        let scale = 1 / 7.0
        let r = try step.update(rollouts, scale: scale)
        XCTAssertGreaterThan(r.metricSums["policy/clipfrac_avg"] ?? 0, 0, "some tokens are clipped")
        XCTAssertLessThan(r.metricSums["policy/clipfrac_avg"] ?? 7, 7, "and some are not")
        let checked = try assertGradientsMatchFiniteDifferences(trainable.trainableParameters, samples: 6, eps: 1e-2, absolute: 2e-4,
                                                                relative: 3e-2, label: "PPO") {
            try step.update(rollouts, scale: scale).lossSum * scale
        }
        XCTAssertGreaterThan(checked, 50)
    }

    /// Before any update, the policy that is trained is the one that sampled: every ratio is 1.
    func testTheFirstPassStartsAtRatioOne() throws {
        let trainable = TrainableLlama(try tinyModel())
        try trainable.addLoRA(LoRAOptions(rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"]), seed: 1)
        trainable.addCriticHead(seed: 1)
        let step = PPOUpdate(model: trainable, ppo: PPOOptions(), batchSize: 1)
        var rollouts = [Rollout(prompt: 0, promptIDs: [256, 72, 105], responseIDs: [33, 258], text: "!", endedTurn: true)]
        rollouts[0].score = 1
        try step.measure(&rollouts, klCoef: 0.05)
        XCTAssertLessThan(rollouts[0].kl.map(abs).max() ?? 1, 1e-6, "a fresh adapter (B = 0) is the reference itself")
        let r = try noGrad { try step.update(rollouts, scale: 0.5) }
        XCTAssertEqual((r.metricSums["val/ratio"] ?? 0) / 2, 1, accuracy: 1e-6)
        XCTAssertEqual(r.metricSums["policy/clipfrac_avg"], 0)
    }

    // MARK: - whole runs

    private func options(steps: Int, out: URL) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.epochs = 100; o.maxSteps = steps; o.learningRate = 2e-2; o.warmupRatio = 0; o.batchSize = 4; o.gradAccum = 2
        o.lora = LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["all-linear"])
        o.maxLength = 64; o.seed = 5
        o.logFile = out.appendingPathComponent("train.jsonl")
        return o
    }

    private var ppoOptions: PPOOptions {
        var p = PPOOptions()
        p.responseLength = 8; p.temperature = 1; p.ppoEpochs = 2; p.klCoef = 0.01
        return p
    }

    /// The synthetic task of issue 14: answers that cite a passage ("… [2]") against the same
    /// answers without the citation. A reward model learns it and ranks held-out pairs far above
    /// chance; PPO against that reward model raises the mean reward while the KL to the reference
    /// stays bounded.
    func testRewardModelLearnsCitingAndPPORaisesItWithBoundedKL() throws {
        let model = try tinyModel()
        let words = ["dams", "fish", "coast", "mud", "river", "nest", "reeds", "lodge", "wings", "sea"]
        var pairs: [[String: Any]] = []
        for i in 0..<48 {
            let answer = "\(words[i % words.count]) \(words[(i * 7 + 3) % words.count])"
            pairs.append(["prompt": "q\(i)", "chosen": "\(answer) [\(1 + i % 5)]", "rejected": answer])
        }
        let data = try write(pairs, "cite.jsonl")
        var o = FinetuneOptions()
        o.maxSteps = 40; o.epochs = 100; o.learningRate = 1e-2; o.warmupRatio = 0; o.batchSize = 8; o.gradAccum = 1
        o.lora = LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["all-linear"]); o.maxLength = 64; o.seed = 3
        o.evalSplit = 0.25; o.evalEvery = 40
        let rm = folder.appendingPathComponent("rm")
        var evaluations: [FinetuneProgress] = []
        _ = try Finetune.rm(model: model, data: data, output: rm, options: o, baseModelName: "tiny",
                            progress: { if $0.isEvaluation { evaluations.append($0) } })
        let heldOut = try XCTUnwrap(evaluations.last?.metrics["eval_accuracy"])
        print("RM on citing vs not: held-out accuracy \(heldOut) on 12 pairs")
        XCTAssertGreaterThanOrEqual(heldOut, 0.9, "far above chance (0.5) on pairs it never saw")

        let scorer = try RewardScorer(model: model, directory: rm)
        let prompts = try write((0..<8).map { ["prompt": "q\(100 + $0)"] }, "prompts.jsonl")
        let out = folder.appendingPathComponent("ppo")
        var p = ppoOptions
        p.klCoef = 0.2; p.targetKL = 4; p.klHorizon = 64       // the adaptive coefficient holds the KL near 4 nats
        var po = options(steps: 16, out: out)
        po.learningRate = 5e-3; po.gradAccum = 4                 // 16 responses a step
        var reports: [FinetuneProgress] = []
        _ = try Finetune.ppo(model: model, data: prompts, output: out, options: po, ppo: p,
                             reward: { try scorer.reward(prompt: $0, response: [ChatMessage(role: "assistant", content: $1)]) },
                             baseModelName: "tiny", progress: { reports.append($0) })
        let scores = reports.compactMap { $0.metrics["objective/scores"] }, kls = reports.compactMap { $0.metrics["objective/kl"] }
        print("PPO against the RM: scores \(scores.map { String(format: "%.2f", $0) }.joined(separator: " ")); KL \(kls.map { String(format: "%.2f", $0) }.joined(separator: " "))")
        XCTAssertGreaterThan(scores.suffix(4).reduce(0, +) / 4, scores.prefix(4).reduce(0, +) / 4 + 0.3, "the mean reward rises")
        XCTAssertLessThan(kls.max() ?? .infinity, 15, "and the policy stays within a bounded KL of the reference")
    }

    /// A reward that counts ASCII letters in the response: PPO on the tiny random model raises it,
    /// logs TRL's metrics, and writes an ordinary PEFT adapter (no critic in it).
    func testPPORaisesTheRewardAndWritesAnAdapter() throws {
        let model = try tinyModel()
        let prompts = try write((0..<8).map { ["prompt": "q\($0)"] } + [["messages": [["role": "user", "content": "hi"], ["role": "assistant", "content": "x"]]]],
                                "prompts.jsonl")
        let out = folder.appendingPathComponent("ppo")
        let letters: RewardFunction = { _, response in
            guard !response.isEmpty else { return 0 }
            return Double(response.unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic }.count) / Double(response.unicodeScalars.count)
        }
        var reports: [FinetuneProgress] = []
        let outcome = try Finetune.ppo(model: model, data: prompts, output: out, options: options(steps: 12, out: out), ppo: ppoOptions,
                                       reward: letters, baseModelName: "tiny", progress: { reports.append($0) })
        XCTAssertEqual(outcome.steps, 12)
        XCTAssertEqual(reports.count, 12)
        let scores = reports.compactMap { $0.metrics["objective/scores"] }
        let early = scores.prefix(3).reduce(0, +) / 3, late = scores.suffix(3).reduce(0, +) / 3
        print("PPO tiny: letters share \(scores.map { String(format: "%.2f", $0) }.joined(separator: " "))")
        XCTAssertGreaterThan(late, early + 0.15, "PPO raises the reward")
        let last = try XCTUnwrap(reports.last)
        for key in ["objective/rlhf_reward", "objective/kl", "objective/scores", "policy/clipfrac_avg", "loss/policy_avg",
                    "loss/value_avg", "val/ratio", "response_length", "val/num_eos_tokens"] {
            XCTAssertNotNil(last.metrics[key], key)
        }
        XCTAssertGreaterThan(last.metrics["objective/kl"] ?? 0, 0, "the policy has moved away from the reference")
        let logged = try String(contentsOf: out.appendingPathComponent("train.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(logged.count, 12)
        XCTAssertTrue(logged[0].contains("\"objective\\/rlhf_reward\"") || logged[0].contains("\"objective/rlhf_reward\""))
        XCTAssertNotNil(try model.adapted(by: out).adapter)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent(TrainableLlama.criticHeadFile).path))
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: out.path).contains { $0.hasPrefix(".ppo-policy") },
                       "the sampling copy of the adapter is removed")
    }

    /// A run interrupted after a checkpoint and resumed ends with the adapter of the run that was
    /// never interrupted (policy, critic, optimizer moments, KL coefficient and step restored).
    func testResumedRunMatchesTheUninterruptedOne() throws {
        let model = try tinyModel()
        let prompts = try write((0..<6).map { ["prompt": "p\($0)"] }, "prompts.jsonl")
        let reward: RewardFunction = { _, response in Double(response.utf8.filter { $0 == UInt8(ascii: "e") }.count) }
        var ppo = ppoOptions
        ppo.targetKL = 0.5; ppo.klHorizon = 50
        let whole = folder.appendingPathComponent("whole")
        _ = try Finetune.ppo(model: model, data: prompts, output: whole, options: options(steps: 4, out: whole), ppo: ppo,
                             reward: reward, baseModelName: "tiny")

        let cut = folder.appendingPathComponent("cut")
        var o = options(steps: 4, out: cut)
        o.saveEvery = 2
        let stopAfterTwo = Counter()
        let first = try Finetune.ppo(model: model, data: prompts, output: cut, options: o, ppo: ppo, reward: reward, baseModelName: "tiny",
                                     shouldStop: { stopAfterTwo.next() >= 2 })
        let checkpoint = try XCTUnwrap(first.interruptedCheckpoint)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(TrainableLlama.criticHeadFile).path))
        o.resume = checkpoint
        _ = try Finetune.ppo(model: model, data: prompts, output: cut, options: o, ppo: ppo, reward: reward, baseModelName: "tiny")

        let a = try SafeTensorsFile(url: whole.appendingPathComponent(PEFTAdapter.weightsFile))
        let b = try SafeTensorsFile(url: cut.appendingPathComponent(PEFTAdapter.weightsFile))
        for key in a.names {
            let x = try a.tensor(key).toArray(), y = try b.tensor(key).toArray()
            let diff = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(diff, 1e-5, key)
        }
    }

    /// The reward model of `rag finetune rm` as PPO's scorer, and bad prompt files named with the line.
    func testRewardModelScoresThePolicyAndBadPromptsAreNamed() throws {
        let model = try tinyModel()
        let pairs = try write([["prompt": "a", "chosen": "xyz", "rejected": "uvw"], ["prompt": "b", "chosen": "pqr", "rejected": "stu"]], "pref.jsonl")
        var rmOptions = FinetuneOptions()
        rmOptions.maxSteps = 5; rmOptions.learningRate = 1e-2; rmOptions.batchSize = 2; rmOptions.gradAccum = 1; rmOptions.maxLength = 64
        rmOptions.lora = LoRAOptions(rank: 4, alpha: 8, dropout: 0, targets: ["q_proj", "v_proj"])
        let rm = folder.appendingPathComponent("rm")
        _ = try Finetune.rm(model: model, data: pairs, output: rm, options: rmOptions, baseModelName: "tiny")
        let scorer = try RewardScorer(model: model, directory: rm)
        let prompts = try write([["prompt": "a"], ["prompt": [["role": "user", "content": "b"]]]], "prompts.jsonl")
        let out = folder.appendingPathComponent("ppo")
        var o = options(steps: 2, out: out)
        o.batchSize = 2; o.gradAccum = 1
        var reports: [FinetuneProgress] = []
        _ = try Finetune.ppo(model: model, data: prompts, output: out, options: o, ppo: ppoOptions,
                             reward: { try scorer.reward(prompt: $0, response: [ChatMessage(role: "assistant", content: $1)]) },
                             baseModelName: "tiny", progress: { reports.append($0) })
        XCTAssertEqual(reports.count, 2)
        XCTAssertTrue(reports.allSatisfy { ($0.metrics["objective/scores"] ?? .nan).isFinite })

        let bad = try write([["prompt": "ok"], ["question": "no prompt here"]], "bad.jsonl")
        XCTAssertThrowsError(try Finetune.ppo(model: model, data: bad, output: out, options: o, ppo: ppoOptions,
                                              reward: { _, _ in 0 }, baseModelName: "tiny")) { error in
            XCTAssertTrue("\(error)".contains("bad.jsonl:2") && "\(error)".contains("prompt"), "\(error)")
        }
        var tooLong = ppoOptions
        tooLong.responseLength = 60
        XCTAssertThrowsError(try Finetune.ppo(model: model, data: prompts, output: out, options: o, ppo: tooLong,
                                              reward: { _, _ in 0 }, baseModelName: "tiny")) { error in
            XCTAssertTrue("\(error)".contains("--max-length"), "\(error)")
        }
    }
}
