// RLHF with PPO (Ziegler et al. 2019; Ouyang et al. 2022), the four roles on one set of base
// weights: the actor is the policy's adapter (LoRA, or prompt tuning, (IA)³, BitFit; not --full, as
// rollouts load the adapter on the fast path); the reference is the model training started from
// (the adapter switched off, or the starting adapter frozen); the reward model scores whole
// responses; the critic is a value head on the actor's hidden states. Each step:
//   1. sample a response to each of a batch of prompts with the current policy;
//   2. score them; per-token rewards = −β·KL(π_old ‖ π_ref) + the score on the last token;
//   3. advantages by GAE from the critic's values, whitened over the batch;
//   4. `ppoEpochs` passes over the batch in `miniBatches` optimizer steps each, minimising the
//      clipped policy loss + vfCoef × the clipped value loss (means over response tokens);
//   5. adapt β towards the target KL (when one is set), log, checkpoint.
// Dropout is off throughout (the ratio of the first pass is exactly 1). Logged with TRL's names.

import Foundation
import SeededRandom
import Tensor
import Tokenizers

/// Scores one response to a prompt (a reward model, or any function of the text).
public typealias RewardFunction = (_ prompt: [ChatMessage], _ response: String) throws -> Double

struct PPOTrainer {
    let model: TrainableLlama
    let prompts: PromptDataset
    let reward: RewardFunction
    let options: FinetuneOptions
    let ppo: PPOOptions
    let output: URL
    let baseModelName: String
    let shouldStop: @Sendable () -> Bool
    let progress: (FinetuneProgress) -> Void

    /// Prompts sampled per step: micro-batches × accumulation × mini-batches.
    var rolloutsPerStep: Int { options.batchSize * options.gradAccum * ppo.miniBatches }

    func run() throws -> FinetuneOutcome {
        try options.validate()
        try ppo.validate()
        let started = Date()
        let count = prompts.prompts.count
        let perStep = rolloutsPerStep
        let stepsPerEpoch = (count + perStep - 1) / perStep
        let totalSteps = min(options.maxSteps ?? Int.max, stepsPerEpoch * options.epochs)
        let updatesPerStep = ppo.ppoEpochs * ppo.miniBatches
        let totalUpdates = totalSteps * updatesPerStep
        let warmup = Int((Float(totalUpdates) * options.warmupRatio).rounded(.up))
        let schedule = LRSchedule.cosine(peak: options.learningRate, minimum: 0, warmup: warmup, total: totalUpdates)

        if model.criticHead == nil { model.addCriticHead(seed: options.seed) }
        let named = model.trainableParameters
        let optimizer = AdamW(parameters: named.map(\.1), learningRate: options.learningRate, weightDecay: options.weightDecay)
        var state = TrainerState(globalStep: 0, totalSteps: totalSteps, bestEvalLoss: nil, badEvaluations: 0, seed: options.seed)
        var kl = KLController(value: ppo.klCoef, target: ppo.targetKL, horizon: ppo.klHorizon)
        if let resume = options.resume {
            state = try TrainingCheckpoint.restore(from: resume, model: model, optimizer: optimizer, names: named.map(\.0))
            guard state.seed == options.seed else {
                throw TrainingError.checkpoint("\(resume.path) was trained with --seed \(state.seed), not \(options.seed)")
            }
            if let saved = state.klCoef { kl.value = saved }
        }
        let log = try options.logFile.map { try MetricsLog(url: $0) }
        model.recomputeLayers = options.recomputeLayers
        model.frozenPrecision = options.frozenPrecision
        HeapPolicy.keepFreedMemory()   // the same large buffers every step (HeapPolicy.swift)
        model.setTraining(false)

        let scratch = output.appendingPathComponent(".ppo-policy-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let sampler = RolloutSampler(base: model.model, scratch: scratch, baseModelName: baseModelName,
                                     contextLength: min(options.maxLength, model.config.contextLength))

        let steps = PPOUpdate(model: model, ppo: ppo, batchSize: options.batchSize)
        // Optimizer updates taken so far (fewer than updatesPerStep a step when a batch has fewer
        // responses than mini-batches): AdamW's bias correction and the schedule count these.
        var updates = state.optimizerSteps ?? state.globalStep * updatesPerStep
        var firstLoss: Double?, lastLoss: Double?, tokensSeen = 0
        let runStart = Date()
        let startStep = state.globalStep
        var step = state.globalStep
        while step < totalSteps {
            // 1. prompts of this step, in a seeded order per epoch; 2. responses and scores
            let epoch = step / stepsPerEpoch, slot = step % stepsPerEpoch
            var orderRNG = SplitMix64(seed: options.seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
            let order = Array(0..<count).shuffled(using: &orderRNG)
            let chosen = (0..<perStep).map { order[(slot * perStep + $0) % count] }
            var rollouts = try sampler.sample(policy: model, prompts: chosen.map { ($0, prompts.prompts[$0]) }, options: ppo,
                                              seed: options.seed &+ UInt64(step + 1) &* 0xD1B5_4A32_D192_ED03)
            rollouts.removeAll { $0.responseIDs.isEmpty }
            guard !rollouts.isEmpty else { throw TrainingError.data("step \(step + 1): no response was sampled") }
            for i in rollouts.indices {
                var score = try reward(prompts.prompts[rollouts[i].prompt].messages, rollouts[i].text)
                if !rollouts[i].endedTurn, let penalty = ppo.missingEOSPenalty { score += penalty }
                rollouts[i].score = score
            }
            // 3. old log-probabilities and values, the reference's, rewards and advantages
            try steps.measure(&rollouts, klCoef: kl.value)
            // 4. the PPO epochs
            var sums: [String: Double] = [:], counted = 0.0, lossSum = 0.0, gradNorm: Float = 0
            for pass in 0..<ppo.ppoEpochs {
                var passRNG = SplitMix64(seed: options.seed ^ (UInt64(step) << 20) ^ UInt64(pass + 1))
                let shuffled = Array(rollouts.indices).shuffled(using: &passRNG)
                let size = (shuffled.count + ppo.miniBatches - 1) / ppo.miniBatches
                for mini in stride(from: 0, to: shuffled.count, by: size) {
                    let members = Array(shuffled[mini..<min(shuffled.count, mini + size)])
                    let units = Double(members.reduce(0) { $0 + rollouts[$1].responseIDs.count })
                    optimizer.learningRate = schedule.learningRate(at: updates)
                    for micro in stride(from: 0, to: members.count, by: options.batchSize) {
                        let part = Array(members[micro..<min(members.count, micro + options.batchSize)])
                        let r = try steps.update(part.map { rollouts[$0] }, scale: 1 / units)
                        lossSum += r.lossSum / units
                        tokensSeen += r.tokens
                        for (k, v) in r.metricSums { sums[k, default: 0] += v / units }
                    }
                    gradNorm = clipGradNorm(optimizer.parameters, maxNorm: options.maxGradNorm)
                    optimizer.step()
                    optimizer.zeroGrad()
                    counted += 1
                    updates += 1
                }
            }
            step += 1
            state.globalStep = step
            state.optimizerSteps = updates

            // 5. metrics (TRL's names), the KL coefficient, log, checkpoint
            let n = Double(rollouts.count)
            let meanKL = rollouts.reduce(0) { $0 + $1.kl.reduce(0, +) } / n
            let meanScore = rollouts.reduce(0) { $0 + $1.score } / n
            var metrics = sums.mapValues { $0 / counted }
            metrics["objective/kl"] = meanKL
            metrics["objective/scores"] = meanScore
            metrics["objective/non_score_reward"] = -kl.value * meanKL
            metrics["objective/rlhf_reward"] = meanScore - kl.value * meanKL
            metrics["objective/kl_coef"] = kl.value
            metrics["val/num_eos_tokens"] = Double(rollouts.filter(\.endedTurn).count)
            metrics["response_length"] = rollouts.reduce(0) { $0 + Double($1.responseIDs.count) } / n
            kl.update(meanKL: meanKL, responses: rollouts.count)
            state.klCoef = kl.value
            let loss = lossSum / counted
            if firstLoss == nil { firstLoss = loss }
            lastLoss = loss
            let elapsed = Date().timeIntervalSince(runStart)
            let done = step - startStep
            let report = FinetuneProgress(step: step, totalSteps: totalSteps, epoch: Double(step) / Double(stepsPerEpoch), loss: loss,
                                          learningRate: optimizer.learningRate, gradNorm: gradNorm,
                                          tokensPerSecond: Double(tokensSeen) / max(elapsed, 1e-9), elapsedSeconds: elapsed,
                                          etaSeconds: elapsed / Double(done) * Double(totalSteps - step), metrics: metrics, isEvaluation: false)
            if step % options.logEvery == 0 || step == totalSteps {
                progress(report)
                try log?.append(report)
            }
            let stopNow = shouldStop() && step < totalSteps
            if (options.saveEvery > 0 && step % options.saveEvery == 0 && step < totalSteps) || stopNow {
                let dir = try TrainingCheckpoint.save(to: output, state: state, model: model, optimizer: optimizer,
                                                      names: named.map(\.0), baseModelName: baseModelName)
                if stopNow {
                    return outcome(steps: step, total: totalSteps, first: firstLoss, last: lastLoss, started: started,
                                   runStart: runStart, tokens: tokensSeen, interrupted: dir)
                }
            }
        }
        // The result is the policy alone: an ordinary PEFT adapter (the critic stays in checkpoints).
        let critic = model.criticHead
        model.criticHead = nil
        defer { model.criticHead = critic }
        try FinetuneLoop.writeFinalAdapter(model: model, output: output, baseModelName: baseModelName)
        return outcome(steps: step, total: totalSteps, first: firstLoss, last: lastLoss, started: started, runStart: runStart,
                       tokens: tokensSeen, interrupted: nil)
    }

    private func outcome(steps: Int, total: Int, first: Double?, last: Double?, started: Date, runStart: Date, tokens: Int,
                         interrupted: URL?) -> FinetuneOutcome {
        FinetuneOutcome(steps: steps, totalSteps: total, trainExamples: prompts.prompts.count, evalExamples: 0, firstLoss: first,
                        lastLoss: last, evalLoss: nil, seconds: Date().timeIntervalSince(started),
                        tokensPerSecond: Double(tokens) / max(Date().timeIntervalSince(runStart), 1e-9),
                        interruptedCheckpoint: interrupted, stoppedEarly: false, peakMemoryBytes: PeakMemory.bytes())
    }
}

/// The two halves of a PPO step on the model: measuring a batch of rollouts before the updates,
/// and the loss and gradients of one micro-batch during them.
struct PPOUpdate {
    let model: TrainableLlama
    let ppo: PPOOptions
    /// Sequences per forward pass.
    let batchSize: Int

    /// Fills each rollout's old log-probabilities, values, reference log-probabilities, KL,
    /// advantages and returns (no gradients).
    func measure(_ rollouts: inout [Rollout], klCoef: Double) throws {
        let padID = model.padID
        try noGrad {
            for start in stride(from: 0, to: rollouts.count, by: batchSize) {
                let range = start..<min(rollouts.count, start + batchSize)
                let batch = PaddedBatch(range.map { rollouts[$0].sequence }, padID: padID)
                let (logp, values) = try model.logProbsAndValues(batch.ids, targets: batch.targets, batch: batch.batch,
                                                                 length: batch.length, temperature: ppo.temperature)
                let ref = try model.logProbsAndValues(batch.ids, targets: batch.targets, batch: batch.batch, length: batch.length,
                                                      temperature: ppo.temperature, mode: .reference).logp
                let (lp, v, lr) = (logp.toArray(), values.toArray(), ref.toArray())
                for (row, i) in range.enumerated() {
                    let positions = Self.responsePositions(batch, row: row)
                    rollouts[i].logpOld = positions.map { Double(lp[$0]) }
                    rollouts[i].valuesOld = positions.map { Double(v[$0]) }
                    rollouts[i].logpRef = positions.map { Double(lr[$0]) }
                }
            }
        }
        for i in rollouts.indices {
            let (rewards, kl) = PPOMath.rewards(score: rollouts[i].score, logpOld: rollouts[i].logpOld, logpRef: rollouts[i].logpRef,
                                                klCoef: klCoef)
            let (advantages, returns) = PPOMath.gae(rewards: rewards, values: rollouts[i].valuesOld, gamma: ppo.gamma, lambda: ppo.lambda)
            rollouts[i].kl = kl
            rollouts[i].advantages = advantages
            rollouts[i].returns = returns
        }
        if ppo.whitenAdvantages {
            let whitened = PPOMath.whiten(rollouts.map(\.advantages))
            for i in rollouts.indices { rollouts[i].advantages = whitened[i] }
        }
    }

    /// The flat [B·T] positions of a row's response tokens (where its targets are), in order.
    static func responsePositions(_ batch: PaddedBatch, row: Int) -> [Int] {
        ((row * batch.length)..<((row + 1) * batch.length)).filter { batch.targets[$0] != -100 }
    }

    /// One micro-batch of the PPO loss, backward scaled by `scale` (1 / response tokens of the
    /// mini-batch); returns the loss and metric sums over its tokens.
    func update(_ rollouts: [Rollout], scale: Double) throws -> MicroBatchResult {
        let batch = PaddedBatch(rollouts.map(\.sequence), padID: model.padID)
        let (logp, values) = try model.logProbsAndValues(batch.ids, targets: batch.targets, batch: batch.batch,
                                                         length: batch.length, temperature: ppo.temperature)
        let (lp, v) = (logp.toArray(), values.toArray())
        var gLogp = [Float](repeating: 0, count: lp.count), gValue = [Float](repeating: 0, count: v.count)
        var result = MicroBatchResult(lossSum: 0, tokens: batch.tokens)
        func add(_ key: String, _ x: Double) { result.metricSums[key, default: 0] += x }
        for (row, r) in rollouts.enumerated() {
            for (t, i) in Self.responsePositions(batch, row: row).enumerated() {
                let p = PPOMath.policyLoss(logp: Double(lp[i]), logpOld: r.logpOld[t], advantage: r.advantages[t], clip: ppo.clipRange)
                let q = PPOMath.valueLoss(value: Double(v[i]), valueOld: r.valuesOld[t], ret: r.returns[t], clip: ppo.clipRangeValue)
                gLogp[i] = Float(scale * p.dLogp)
                gValue[i] = Float(scale * ppo.valueCoef * q.dValue)
                result.lossSum += p.loss + ppo.valueCoef * q.loss
                let logRatio = Double(lp[i]) - r.logpOld[t]
                add("loss/policy_avg", p.loss)
                add("loss/value_avg", q.loss)
                add("policy/clipfrac_avg", p.clipped ? 1 : 0)
                add("val/clipfrac_avg", q.clipped ? 1 : 0)
                add("policy/approxkl_avg", 0.5 * logRatio * logRatio)
                add("val/ratio", Foundation.exp(logRatio))
            }
        }
        // d(Σ gLogp·logp + Σ gValue·values): both heads share the forward pass.
        let objective = try (logp * Tensor(gLogp, shape: logp.shape)).sum() + (values * Tensor(gValue, shape: values.shape)).sum()
        if objective.requiresGrad { objective.backward() }
        return result
    }
}
