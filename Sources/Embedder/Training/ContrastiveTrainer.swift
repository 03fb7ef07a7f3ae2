import Foundation
import Tensor

/// Contrastive fine-tuning of a sentence encoder with in-batch negatives (see RankingLoss.swift),
/// AdamW with linear warmup, optional LoRA, checkpoints that resume exactly.
/// The encoder's weights are changed in place; save it with `encoder.save(to:)` afterwards.
public final class ContrastiveTrainer {
    public let encoder: SentenceEncoder
    public let config: TrainingConfig
    let optimizer: AdamW
    /// Names of the trained parameters, in optimizer order.
    let trainableNames: [String]

    public init(encoder: SentenceEncoder, config: TrainingConfig) throws {
        try config.validate()
        self.encoder = encoder
        self.config = config
        let model = encoder.model
        if let lora = config.lora {
            model.setTrainable(false)
            var rng = TensorRNG(seed: config.seed &+ 1)
            for (_, linear) in model.linearLayers() where linear.lora == nil {
                linear.enableLoRA(rank: lora.rank, alpha: lora.alpha, rng: &rng)
            }
        } else {
            model.setTrainable(true)
        }
        let trainable = model.namedParameters().filter { $0.1.requiresGrad }
        trainableNames = trainable.map(\.0)
        optimizer = AdamW(parameters: trainable.map(\.1), learningRate: config.learningRate,
                          weightDecay: config.weightDecay)
    }

    public var trainableParameterCount: Int { optimizer.parameters.reduce(0) { $0 + $1.count } }

    /// Trains on `pairs` for `config.epochs` (or `maxSteps`), from step 0 or from the checkpoint
    /// folder `resumeFrom` (written by an earlier run with the same pairs and config).
    public func train(pairs: [TrainingPair], evalPairs: [TrainingPair] = [], resumeFrom: URL? = nil,
                      progress: (TrainingProgress) -> Void = { _ in }) throws -> TrainingReport {
        guard !pairs.isEmpty else { throw EmbedderError.emptyTrainingSet("no training pairs were given") }
        let started = Date()
        let maxTokens = config.maxTokens ?? encoder.maxTokens
        let tokenized = TokenizedPairs(pairs, encoder: encoder, maxTokens: maxTokens)
        let epochPlans = (0..<config.epochs).map { planBatches(pairs, batchSize: config.batchSize, seed: config.seed, epoch: $0) }
        let planned = epochPlans.reduce(0) { $0 + $1.count }
        guard planned > 0 else {
            throw EmbedderError.emptyTrainingSet("no batch of two pairs with distinct texts can be formed from \(pairs.count) pairs")
        }
        let totalSteps = min(planned, config.maxSteps ?? planned)
        var startStep = 0
        if let resumeFrom { startStep = try restoreCheckpoint(resumeFrom, fingerprint: fingerprint(pairs)) }

        let before = evalPairs.isEmpty ? nil : try evaluate(pairs: evalPairs)
        let schedule = LRSchedule.linearWarmup(peak: config.learningRate, warmup: config.warmupSteps)
        var losses: [Float] = [], checkpoints: [URL] = []
        var step = 0
        training: for (epoch, plan) in epochPlans.enumerated() {
            for batch in plan {
                if step >= totalSteps { break training }
                defer { step += 1 }
                if step < startStep { continue }
                optimizer.learningRate = schedule.learningRate(at: step)
                let (loss, correct) = try batchLoss(batch, tokenized)
                loss.backward()
                if let maxNorm = config.maxGradNorm { clipGradNorm(optimizer.parameters, maxNorm: maxNorm) }
                optimizer.step()
                optimizer.zeroGrad()
                losses.append(loss.item)
                progress(TrainingProgress(step: step + 1, totalSteps: totalSteps, epoch: epoch, loss: loss.item,
                                          inBatchAccuracy: Float(correct) / Float(batch.count),
                                          learningRate: optimizer.learningRate))
                if let every = config.checkpointEvery, let dir = config.checkpointDirectory, (step + 1) % every == 0 {
                    checkpoints.append(try saveCheckpoint(in: dir, step: step + 1, fingerprint: fingerprint(pairs)))
                }
            }
        }
        let after = evalPairs.isEmpty ? nil : try evaluate(pairs: evalPairs)
        return TrainingReport(steps: losses.count, losses: losses, before: before, after: after, checkpoints: checkpoints,
                              seconds: Date().timeIntervalSince(started), trainableParameters: trainableParameterCount)
    }

    /// Mean ranking loss and in-batch accuracy over `pairs` in batches of `config.batchSize`, without gradients.
    public func evaluate(pairs: [TrainingPair]) throws -> HeldOutScores {
        let tokenized = TokenizedPairs(pairs, encoder: encoder, maxTokens: config.maxTokens ?? encoder.maxTokens)
        let plan = planBatches(pairs, batchSize: config.batchSize, seed: 0, epoch: 0)
        var total: Double = 0, correct = 0, counted = 0
        try noGrad {
            for batch in plan {
                let (loss, right) = try batchLoss(batch, tokenized)
                total += Double(loss.item) * Double(batch.count); correct += right; counted += batch.count
            }
        }
        guard counted > 0 else { throw EmbedderError.emptyTrainingSet("no evaluation batch of two distinct pairs") }
        return HeldOutScores(loss: Float(total / Double(counted)), inBatchAccuracy: Float(correct) / Float(counted), pairs: counted)
    }

    private func batchLoss(_ batch: [Int], _ tokenized: TokenizedPairs) throws -> (Tensor, Int) {
        let queries = try encoder.embed(tokenized: batch.map { tokenized.queries[$0] })           // [B, C]
        let documents = try encoder.embed(tokenized: batch.map { tokenized.positives[$0] }
                                          + batch.compactMap { tokenized.negatives[$0] })        // [B + Bn, C]
        return try multipleNegativesRankingLoss(queries: queries, documents: documents, scale: config.scale)
    }

    /// Identifies the training data, so a checkpoint is not resumed on other pairs.
    func fingerprint(_ pairs: [TrainingPair]) -> String {
        var hash = FNV1a()
        for pair in pairs { hash.add((pair.query + "\u{1}" + pair.positive + "\u{1}" + (pair.negative ?? "") + "\u{2}").utf8) }
        return "\(pairs.count)-\(String(hash.value, radix: 16))"
    }
}

/// Token ids of every pair's texts, computed once.
struct TokenizedPairs {
    let queries: [[Int]], positives: [[Int]], negatives: [[Int]?]

    init(_ pairs: [TrainingPair], encoder: SentenceEncoder, maxTokens: Int) {
        let tokenizer = encoder.tokenizer
        queries = pairs.map { tokenizer.encode($0.query, maxLength: maxTokens) }
        positives = pairs.map { tokenizer.encode($0.positive, maxLength: maxTokens) }
        negatives = pairs.map { $0.negative.map { tokenizer.encode($0, maxLength: maxTokens) } }
    }
}
