// What a fine-tuning stage optimises, seen by the training loop: items (examples or preference
// pairs) go through the model in micro-batches; each returns its loss summed over its units
// (learned tokens for SFT, pairs for DPO) after sending `scale` × its gradient back, so that a
// step's gradient is the mean over all the units of its micro-batches.

import Foundation
import Tensor

struct MicroBatchResult {
    /// Σ of the loss over the micro-batch's units.
    var lossSum: Double
    /// Non-padding tokens that went through the model.
    var tokens: Int
    /// Σ of each metric over the units (averaged by the loop).
    var metricSums: [String: Double] = [:]
}

protocol TrainingObjective: AnyObject {
    var itemCount: Int { get }
    /// Loss units of items (the loss is their mean).
    func units(_ items: [Int]) -> Double
    /// Forward (and, with `train`, backward scaled by `scale`) on one micro-batch.
    func run(_ items: [Int], scale: Double, train: Bool) throws -> MicroBatchResult
}

/// Inputs and targets of sequences right-padded to one length: [B·T] each, target -100 where
/// nothing is learned (the prompt, padding).
struct PaddedBatch {
    let ids: [Int]
    let targets: [Int]
    let batch: Int
    let length: Int
    let tokens: Int

    /// Row b predicts seq.ids[i + 1] from ids[...i] where seq.isTarget[i + 1].
    init(_ sequences: [TokenSequence], padID: Int) {
        let t = max(1, sequences.map { $0.ids.count - 1 }.max() ?? 1)
        var ids = [Int](repeating: padID, count: sequences.count * t)
        var targets = [Int](repeating: -100, count: sequences.count * t)
        var tokens = 0
        for (b, s) in sequences.enumerated() {
            let n = s.ids.count - 1
            guard n > 0 else { continue }
            for i in 0..<n {
                ids[b * t + i] = s.ids[i]
                if s.isTarget[i + 1] { targets[b * t + i] = s.ids[i + 1] }
            }
            tokens += n
        }
        self.ids = ids
        self.targets = targets
        batch = sequences.count
        length = t
        self.tokens = tokens
    }
}

/// Supervised fine-tuning: mean negative log-likelihood of the learned tokens.
final class SFTObjective: TrainingObjective {
    let model: TrainableLlama
    let sequences: [TokenSequence]
    let padID: Int

    init(model: TrainableLlama, sequences: [TokenSequence]) {
        self.model = model
        self.sequences = sequences
        padID = model.padID
    }

    var itemCount: Int { sequences.count }

    func units(_ items: [Int]) -> Double { Double(items.reduce(0) { $0 + sequences[$1].targetCount }) }

    func run(_ items: [Int], scale: Double, train: Bool) throws -> MicroBatchResult {
        let batch = PaddedBatch(items.map { sequences[$0] }, padID: padID)
        let logp = try model.targetLogProbs(batch.ids, targets: batch.targets, batch: batch.batch, length: batch.length)  // [B, T]
        let values = logp.toArray()
        var lossSum = 0.0
        let gradient = Tensor(zeros: logp.shape)
        for (i, t) in batch.targets.enumerated() where t != -100 {
            lossSum -= Double(values[i])
            gradient.data[i] = Float(-scale)          // d(-Σ logp · scale) / d logp
        }
        if train && logp.requiresGrad { logp.backward(gradient: gradient) }
        return MicroBatchResult(lossSum: lossSum, tokens: batch.tokens)
    }
}

/// Direct Preference Optimization (Rafailov et al. 2023) and its variants, over the summed log
/// probabilities of each reply under the policy (the adapter) and the reference (the model the
/// run started from: the base with the adapter off, or the starting adapter frozen).
final class DPOObjective: TrainingObjective {
    typealias Loss = DPOLoss

    let model: TrainableLlama
    let pairs: [PreferenceSequences]
    let beta: Double
    let loss: Loss
    let labelSmoothing: Double
    let referenceFree: Bool
    let padID: Int
    /// The reference's log-probabilities of each pair (chosen, rejected): fixed, computed once.
    private var referenceCache: [Int: (Double, Double)] = [:]

    init(model: TrainableLlama, pairs: [PreferenceSequences], beta: Double, loss: Loss, labelSmoothing: Double, referenceFree: Bool) {
        self.model = model
        self.pairs = pairs
        self.beta = beta
        self.loss = loss
        self.labelSmoothing = labelSmoothing
        self.referenceFree = referenceFree
        padID = model.padID
    }

    var itemCount: Int { pairs.count }

    func units(_ items: [Int]) -> Double { Double(items.count) }

    /// Σ log p of each sequence's learned tokens: [2B] from logp [2B, T].
    private static func sums(_ logp: [Float], targets: [Int], rows: Int, length: Int) -> [Double] {
        (0..<rows).map { r in
            var s = 0.0
            for i in (r * length)..<((r + 1) * length) where targets[i] != -100 { s += Double(logp[i]) }
            return s
        }
    }

    private func reference(_ items: [Int], batch: PaddedBatch) throws -> [(Double, Double)] {
        if referenceFree { return items.map { _ in (0, 0) } }
        if items.allSatisfy({ referenceCache[$0] != nil }) { return items.compactMap { referenceCache[$0] } }
        let logp = try noGrad { try model.targetLogProbs(batch.ids, targets: batch.targets, batch: batch.batch, length: batch.length, mode: .reference) }
        let s = Self.sums(logp.toArray(), targets: batch.targets, rows: batch.batch, length: batch.length)
        let n = items.count
        for (k, i) in items.enumerated() { referenceCache[i] = (s[k], s[n + k]) }
        return (0..<n).map { (s[$0], s[n + $0]) }
    }

    func run(_ items: [Int], scale: Double, train: Bool) throws -> MicroBatchResult {
        let n = items.count
        let batch = PaddedBatch(items.map { pairs[$0].chosen } + items.map { pairs[$0].rejected }, padID: padID)  // [2B, T]
        let ref = try reference(items, batch: batch)
        let logp = try model.targetLogProbs(batch.ids, targets: batch.targets, batch: batch.batch, length: batch.length)
        let policy = Self.sums(logp.toArray(), targets: batch.targets, rows: batch.batch, length: batch.length)
        var result = MicroBatchResult(lossSum: 0, tokens: batch.tokens)
        var dPolicy = [Double](repeating: 0, count: 2 * n)
        for k in 0..<n {
            let (pc, pr) = (policy[k], policy[n + k]), (rc, rr) = ref[k]
            let z = (pc - pr) - (rc - rr)
            let (l, dz) = Self.loss(z, beta: beta, kind: loss, smoothing: labelSmoothing)
            dPolicy[k] = dz; dPolicy[n + k] = -dz
            let rewardChosen = beta * (pc - rc), rewardRejected = beta * (pr - rr)
            result.lossSum += l
            result.metricSums["rewards/chosen", default: 0] += rewardChosen
            result.metricSums["rewards/rejected", default: 0] += rewardRejected
            result.metricSums["rewards/accuracies", default: 0] += rewardChosen > rewardRejected ? 1 : 0
            result.metricSums["rewards/margins", default: 0] += rewardChosen - rewardRejected
            result.metricSums["logps/chosen", default: 0] += pc
            result.metricSums["logps/rejected", default: 0] += pr
        }
        if train && logp.requiresGrad {
            let gradient = Tensor(zeros: logp.shape)
            for (i, t) in batch.targets.enumerated() where t != -100 {
                gradient.data[i] = Float(scale * dPolicy[i / batch.length])
            }
            logp.backward(gradient: gradient)
        }
        return result
    }

    /// The loss of one pair as a function of z = (π_c - π_r) - (ref_c - ref_r), and dLoss/dz.
    static func loss(_ z: Double, beta: Double, kind: Loss, smoothing: Double) -> (Double, Double) {
        func logSigmoid(_ x: Double) -> Double { x >= 0 ? -Foundation.log1p(Foundation.exp(-x)) : x - Foundation.log1p(Foundation.exp(x)) }
        func sigmoid(_ x: Double) -> Double { x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x)) }
        switch kind {
        case .sigmoid:   // -(1-ε) log σ(βz) - ε log σ(-βz)
            let x = beta * z
            return (-(1 - smoothing) * logSigmoid(x) - smoothing * logSigmoid(-x),
                    beta * (-(1 - smoothing) * sigmoid(-x) + smoothing * sigmoid(x)))
        case .ipo:       // (z - 1/(2β))²
            let d = z - 1 / (2 * beta)
            return (d * d, 2 * d)
        case .hinge:     // max(0, 1 - βz)
            let m = 1 - beta * z
            return m > 0 ? (m, -beta) : (0, 0)
        }
    }
}
