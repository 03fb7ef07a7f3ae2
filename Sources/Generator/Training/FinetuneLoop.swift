// The training loop every stage shares: seeded shuffling per epoch, micro-batches with gradient
// accumulation, AdamW with linear warmup and cosine decay, global gradient-norm clipping, a held-out
// evaluation with early stopping, checkpoints (adapter + optimizer moments + state) that `resume`
// continues exactly, and a checkpoint when asked to stop (Ctrl-C).

import Foundation
import SeededRandom
import Tensor

struct FinetuneLoop {
    let model: TrainableLlama
    let objective: TrainingObjective
    let options: FinetuneOptions
    let output: URL
    let baseModelName: String
    let shouldStop: @Sendable () -> Bool
    let progress: (FinetuneProgress) -> Void

    func run() throws -> FinetuneOutcome {
        try options.validate()
        let started = Date()
        // Held-out split: a seeded slice of the items (none when evalSplit is 0 or it would be empty).
        let (trainItems, evalItems) = Self.split(count: objective.itemCount, fraction: options.evalSplit, seed: options.seed)
        guard !trainItems.isEmpty else { throw TrainingError.data("no training examples left after the evaluation split") }

        let group = options.batchSize * options.gradAccum
        let stepsPerEpoch = (trainItems.count + group - 1) / group
        let totalSteps = min(options.maxSteps ?? Int.max, stepsPerEpoch * options.epochs)
        let warmup = Int((Float(totalSteps) * options.warmupRatio).rounded(.up))
        let schedule = LRSchedule.cosine(peak: options.learningRate, minimum: 0, warmup: warmup, total: totalSteps)

        let named = model.trainableParameters
        guard !named.isEmpty else { throw TrainingError.options("the model has nothing to train (no LoRA targets matched)") }
        let optimizer = AdamW(parameters: named.map(\.1), learningRate: options.learningRate, weightDecay: options.weightDecay)
        var state = TrainerState(globalStep: 0, totalSteps: totalSteps, bestEvalLoss: nil, badEvaluations: 0, seed: options.seed)
        if let resume = options.resume {
            state = try TrainingCheckpoint.restore(from: resume, model: model, optimizer: optimizer, names: named.map(\.0))
            guard state.seed == options.seed else {
                throw TrainingError.checkpoint("\(resume.path) was trained with --seed \(state.seed), not \(options.seed)")
            }
        }
        let log = try options.logFile.map { try MetricsLog(url: $0) }
        model.recomputeLayers = options.recomputeLayers
        model.frozenPrecision = options.frozenPrecision
        HeapPolicy.keepFreedMemory()   // the same large buffers every step (HeapPolicy.swift)
        model.setTraining(true)

        var tokensSeen = 0, firstLoss: Double?, lastLoss: Double?, evalLoss: Double?
        var stoppedEarly = false
        var orderEpoch = -1, order: [Int] = []
        let runStart = Date()
        let startStep = state.globalStep
        var step = state.globalStep
        while step < totalSteps {
            let epoch = step / stepsPerEpoch, slot = step % stepsPerEpoch
            if epoch != orderEpoch {
                var rng = SplitMix64(seed: options.seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
                order = trainItems.shuffled(using: &rng)
                orderEpoch = epoch
            }
            let items = Array(order[(slot * group)..<min(order.count, (slot + 1) * group)])
            let micro = stride(from: 0, to: items.count, by: options.batchSize).map { Array(items[$0..<min(items.count, $0 + options.batchSize)]) }
            let units = max(objective.units(items), 1)
            optimizer.learningRate = schedule.learningRate(at: step)
            var lossSum = 0.0
            var metricSums: [String: Double] = [:]
            for (m, batch) in micro.enumerated() {
                model.reseedDropout(seed: options.seed, step: step, micro: m)
                let r = try objective.run(batch, scale: 1 / units, train: true)
                lossSum += r.lossSum
                tokensSeen += r.tokens
                for (k, v) in r.metricSums { metricSums[k, default: 0] += v }
            }
            let gradNorm = clipGradNorm(optimizer.parameters, maxNorm: options.maxGradNorm)
            optimizer.step()
            optimizer.zeroGrad()
            step += 1
            state.globalStep = step
            let loss = lossSum / units
            if firstLoss == nil { firstLoss = loss }
            lastLoss = loss
            let elapsed = Date().timeIntervalSince(runStart)
            let done = step - startStep
            let eta = done > 0 ? elapsed / Double(done) * Double(totalSteps - step) : nil
            var report = FinetuneProgress(step: step, totalSteps: totalSteps, epoch: Double(step) / Double(stepsPerEpoch),
                                          loss: loss, learningRate: optimizer.learningRate, gradNorm: gradNorm,
                                          tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), elapsedSeconds: elapsed,
                                          etaSeconds: eta, metrics: metricSums.mapValues { $0 / units }, isEvaluation: false)
            if step % options.logEvery == 0 || step == totalSteps {
                progress(report)
                try log?.append(report)
            }

            // evaluation (and early stopping)
            let endOfEpoch = step % stepsPerEpoch == 0
            if !evalItems.isEmpty, (options.evalEvery > 0 ? step % options.evalEvery == 0 : endOfEpoch) || step == totalSteps {
                let (e, metrics) = try evaluate(evalItems)
                evalLoss = e
                report.isEvaluation = true
                report.metrics = metrics.reduce(into: ["eval_loss": e]) { $0["eval_" + $1.key] = $1.value }
                progress(report)
                try log?.append(report)
                if let best = state.bestEvalLoss, e >= best {
                    state.badEvaluations += 1
                } else {
                    state.bestEvalLoss = e
                    state.badEvaluations = 0
                }
                if options.earlyStoppingPatience > 0, state.badEvaluations >= options.earlyStoppingPatience {
                    stoppedEarly = true
                    break
                }
            }
            if options.saveEvery > 0, step % options.saveEvery == 0, step < totalSteps {
                try TrainingCheckpoint.save(to: output, state: state, model: model, optimizer: optimizer, names: named.map(\.0),
                                            baseModelName: baseModelName)
            }
            if shouldStop(), step < totalSteps {
                let dir = try TrainingCheckpoint.save(to: output, state: state, model: model, optimizer: optimizer,
                                                      names: named.map(\.0), baseModelName: baseModelName)
                return outcome(steps: step, total: totalSteps, train: trainItems.count, eval: evalItems.count, first: firstLoss,
                               last: lastLoss, evalLoss: evalLoss, started: started, runStart: runStart, tokens: tokensSeen,
                               interrupted: dir, stoppedEarly: false)
            }
        }
        model.setTraining(false)
        try Self.writeFinalAdapter(model: model, output: output, baseModelName: baseModelName)
        return outcome(steps: step, total: totalSteps, train: trainItems.count, eval: evalItems.count, first: firstLoss,
                       last: lastLoss, evalLoss: evalLoss, started: started, runStart: runStart, tokens: tokensSeen,
                       interrupted: nil, stoppedEarly: stoppedEarly)
    }

    /// Item indices for training and for evaluation: a seeded slice of `fraction` of them held out
    /// (none when 0; at least one item stays for training). `rag finetune eval-classify` draws the same.
    static func split(count: Int, fraction: Double, seed: UInt64) -> (train: [Int], eval: [Int]) {
        var all = Array(0..<count)
        var rng = SplitMix64(seed: seed ^ 0x5EED_5EED)
        all.shuffle(using: &rng)
        let evalCount = fraction > 0 ? min(count - 1, max(1, Int((Double(count) * fraction).rounded()))) : 0
        return (Array(all.dropFirst(evalCount)).sorted(), Array(all.prefix(max(evalCount, 0))))
    }

    /// Mean loss (and metrics) over held-out items, dropout off, no gradients.
    private func evaluate(_ items: [Int]) throws -> (Double, [String: Double]) {
        model.setTraining(false)
        defer { model.setTraining(true) }
        var lossSum = 0.0, units = 0.0
        var metricSums: [String: Double] = [:]
        try noGrad {
            for start in stride(from: 0, to: items.count, by: options.batchSize) {
                let batch = Array(items[start..<min(items.count, start + options.batchSize)])
                let r = try objective.run(batch, scale: 0, train: false)
                lossSum += r.lossSum
                units += objective.units(batch)
                for (k, v) in r.metricSums { metricSums[k, default: 0] += v }
            }
        }
        let u = max(units, 1)
        return (lossSum / u, metricSums.mapValues { $0 / u })
    }

    /// OUT/adapter_config.json + adapter_model.safetensors, or a whole model's files with --full
    /// (+ a reward model's reward_head.safetensors),
    /// written beside and then moved in, so a failure never leaves a half-written adapter.
    static func writeFinalAdapter(model: TrainableLlama, output: URL, baseModelName: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: output, withIntermediateDirectories: true)
        let staging = output.appendingPathComponent(".adapter-staging-\(ProcessInfo.processInfo.processIdentifier)")
        try? fm.removeItem(at: staging)
        try model.saveTrained(to: staging, baseModelName: baseModelName)
        for file in try fm.contentsOfDirectory(atPath: staging.path).sorted() {
            // rename(2) replaces an earlier run's file in one step (FileManager.replaceItemAt failed
            // on Linux when the target existed).
            let from = staging.appendingPathComponent(file), to = output.appendingPathComponent(file)
            guard rename(from.path, to.path) == 0 else {
                throw TrainingError.checkpoint("cannot move \(from.path) to \(to.path): \(String(cString: strerror(errno)))")
            }
        }
        try? fm.removeItem(at: staging)
        // A language model written over an earlier reward model must not leave that head beside it.
        if model.valueHead == nil { try? fm.removeItem(at: output.appendingPathComponent(TrainableLlama.valueHeadFile)) }
    }

    private func outcome(steps: Int, total: Int, train: Int, eval: Int, first: Double?, last: Double?, evalLoss: Double?,
                         started: Date, runStart: Date, tokens: Int, interrupted: URL?, stoppedEarly: Bool) -> FinetuneOutcome {
        let seconds = Date().timeIntervalSince(started)
        return FinetuneOutcome(steps: steps, totalSteps: total, trainExamples: train, evalExamples: eval, firstLoss: first,
                               lastLoss: last, evalLoss: evalLoss, seconds: seconds,
                               tokensPerSecond: Double(tokens) / max(Date().timeIntervalSince(runStart), 1e-9),
                               interruptedCheckpoint: interrupted, stoppedEarly: stoppedEarly, peakMemoryBytes: PeakMemory.bytes())
    }
}

/// Metrics appended to a file as JSON lines (TRL's names: loss, learning_rate, grad_norm, epoch, …).
final class MetricsLog {
    private let handle: FileHandle

    init(url: URL) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: url.path) {
            // The log usually sits in --out, which the run has not created yet.
            try? fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            guard fm.createFile(atPath: url.path, contents: nil) else {
                throw TrainingError.options("cannot create the log file \(url.path)")
            }
        }
        do { handle = try FileHandle(forWritingTo: url) } catch {
            throw TrainingError.options("cannot open the log file \(url.path) (\(error.localizedDescription))")
        }
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    func append(_ p: FinetuneProgress) throws {
        var row: [String: Any] = ["step": p.step, "epoch": p.epoch]
        if p.isEvaluation {
            for (k, v) in p.metrics { row[k] = v }
        } else {
            row["loss"] = p.loss
            row["learning_rate"] = Double(p.learningRate)
            row["grad_norm"] = Double(p.gradNorm)
            row["tokens_per_second"] = p.tokensPerSecond
            for (k, v) in p.metrics { row[k] = v }
        }
        var data = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys, .withoutEscapingSlashes])
        data.append(0x0A)
        handle.write(data)
    }
}

enum PeakMemory {
    /// Peak resident set size (VmHWM of /proc/self/status), bytes; nil where unavailable.
    static func bytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}
