import Foundation
import XCTest
@testable import Embedder
@testable import Tensor

final class TrainingTests: XCTestCase {
    /// Synthetic retrieval task with no word shared between a query and its passage, so a random
    /// encoder is near chance: "<greek letter> <colour>" -> "the <animal> <verb> on the <place>".
    private func syntheticPairs() -> [TrainingPair] {
        let greek = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
        let colours = ["red", "blue"]
        let animals = ["cat", "dog", "fish", "bird"], verbs = ["sat", "ran"], places = ["mat", "sea", "hill", "tree"]
        var pairs: [TrainingPair] = []
        for (i, g) in greek.enumerated() {
            for (j, c) in colours.enumerated() {
                let k = i * 2 + j
                pairs.append(TrainingPair(query: "\(g) \(c)",
                                          positive: "the \(animals[k % 4]) \(verbs[(k / 4) % 2]) on the \(places[(k * 3 + k / 8) % 4])"))
            }
        }
        return pairs
    }

    func testLossFallsAndInBatchAccuracyRises() throws {
        let encoder = try tinyEncoder(seed: 21)
        var config = TrainingConfig(epochs: 20, batchSize: 8, learningRate: 3e-3, warmupSteps: 3, seed: 5)
        config.maxGradNorm = 5
        let pairs = syntheticPairs()
        let trainer = try ContrastiveTrainer(encoder: encoder, config: config)
        let report = try trainer.train(pairs: pairs, evalPairs: pairs)
        let before = try XCTUnwrap(report.before), after = try XCTUnwrap(report.after)
        let first = report.losses.prefix(4).reduce(0, +) / 4, last = report.losses.suffix(4).reduce(0, +) / 4
        print("training: \(report.steps) steps, loss \(first) -> \(last), held-out loss \(before.loss) -> \(after.loss), accuracy \(before.inBatchAccuracy) -> \(after.inBatchAccuracy)")
        XCTAssertLessThan(last, first * 0.7)
        XCTAssertLessThan(after.loss, before.loss * 0.7)
        XCTAssertGreaterThan(after.inBatchAccuracy, before.inBatchAccuracy + 0.25)
    }

    func testNoDuplicateTextsInABatch() {
        var pairs = (0..<10).map { TrainingPair(query: "q\($0)", positive: "p\($0)") }
        pairs += [TrainingPair(query: "q1", positive: "other"), TrainingPair(query: "x", positive: "p2"),
                  TrainingPair(query: "y", positive: "z", negative: "p3")]
        let batches = planBatches(pairs, batchSize: 4, seed: 9, epoch: 0)
        // every pair is used, except a last lone pair that conflicts with all others' texts (no negatives)
        let used = Set(batches.flatMap { $0 })
        XCTAssertEqual(used.count, batches.flatMap { $0 }.count)
        XCTAssertGreaterThanOrEqual(used.count, pairs.count - 1)
        for batch in batches {
            let texts = batch.flatMap { [pairs[$0].query, pairs[$0].positive] + (pairs[$0].negative.map { [$0] } ?? []) }
            XCTAssertEqual(Set(texts).count, texts.count, "batch \(batch)")
        }
        XCTAssertEqual(planBatches(pairs, batchSize: 4, seed: 9, epoch: 0), batches)
        XCTAssertNotEqual(planBatches(pairs, batchSize: 4, seed: 9, epoch: 1), batches)
    }

    /// 2 steps + checkpoint + resume for 2 more == 4 steps straight, for full weights and LoRA.
    func testResumeContinuesExactly() throws {
        for lora in [nil, TrainingConfig.LoRAOptions(rank: 2, alpha: 4)] {
            let pairs = syntheticPairs()
            var config = TrainingConfig(epochs: 2, batchSize: 4, learningRate: 1e-2, warmupSteps: 2, seed: 3)
            config.lora = lora
            config.maxSteps = 4
            let straight = try tinyEncoder(seed: 8)
            _ = try ContrastiveTrainer(encoder: straight, config: config).train(pairs: pairs)

            let dir = try temporaryDirectory()
            var first = config
            first.maxSteps = 2; first.checkpointEvery = 2; first.checkpointDirectory = dir
            let interrupted = try tinyEncoder(seed: 8)
            let report = try ContrastiveTrainer(encoder: interrupted, config: first).train(pairs: pairs)
            XCTAssertEqual(report.checkpoints.map(\.lastPathComponent), ["step-2"])

            let resumed = try tinyEncoder(seed: 8)   // a fresh process: weights come from the checkpoint
            let rest = try ContrastiveTrainer(encoder: resumed, config: config)
                .train(pairs: pairs, resumeFrom: dir.appendingPathComponent("step-2"))
            XCTAssertEqual(rest.steps, 2)
            let a = straight.model.namedParameters(), b = resumed.model.namedParameters()
            XCTAssertEqual(a.map(\.0), b.map(\.0))
            var maxDiff: Float = 0, moved: Float = 0
            let initial = try tinyEncoder(seed: 8).model.namedParameters()
            for ((_, x), ((_, y), (_, z))) in zip(a, zip(b, initial)) where !x.shape.isEmpty {
                for i in 0..<x.count {
                    maxDiff = max(maxDiff, abs(x.data[i] - y.data[i]))
                    moved = max(moved, abs(x.data[i] - z.data[i]))
                }
            }
            XCTAssertLessThan(maxDiff, 1e-6, "lora \(String(describing: lora))")
            XCTAssertGreaterThan(moved, 1e-3, "training changed the weights")
            XCTAssertEqual(try straight.encode(tinyTexts)[0], try resumed.encode(tinyTexts)[0])
            // the checkpoint folder is a loadable model (LoRA merged)
            let saved = try SentenceEncoder.load(directory: dir.appendingPathComponent("step-2"))
            for (u, v) in zip(try saved.encode(tinyTexts).joined(), try interrupted.encode(tinyTexts).joined()) {
                XCTAssertEqual(u, v, accuracy: 1e-5)
            }
            // resuming on other pairs is refused
            XCTAssertThrowsError(try ContrastiveTrainer(encoder: try tinyEncoder(seed: 8), config: config)
                .train(pairs: Array(pairs.dropLast()), resumeFrom: dir.appendingPathComponent("step-2")))
        }
    }

    func testDistilledStudentApproachesTeacher() throws {
        let teacher = try tinyEncoder(seed: 31, layers: 4)
        var rng = TensorRNG(seed: 2)
        for (_, p) in teacher.model.namedParameters() where p.rank == 2 {
            for i in 0..<p.count { p.data[i] += 0.2 * rng.normal() }
            p.storage.markModified()
        }
        let student = try teacher.truncated()
        XCTAssertEqual(student.model.config.layers, 2)
        XCTAssertEqual(student.model.layers[1].attention.query.weight.toArray(), teacher.model.layers[2].attention.query.weight.toArray())
        var texts: [String] = []
        for a in tinyWords.prefix(30) { for b in ["cat", "sea", "big", "kappa"] { texts.append("\(a) \(b) on the hill") } }
        var config = DistillationConfig(epochs: 6, batchSize: 16, learningRate: 3e-3, loss: .cosine, seed: 1)
        config.maxTokens = 16
        let report = try Distiller(teacher: teacher, student: student, config: config)
            .train(texts: texts, heldOut: tinyTexts)
        print("distillation: held-out cosine \(report.heldOutCosineBefore) -> \(report.heldOutCosineAfter), loss \(report.losses.first ?? 0) -> \(report.losses.last ?? 0)")
        XCTAssertGreaterThan(report.heldOutCosineAfter, report.heldOutCosineBefore)
        XCTAssertLessThan(report.losses.suffix(3).reduce(0, +), report.losses.prefix(3).reduce(0, +))
    }
}
