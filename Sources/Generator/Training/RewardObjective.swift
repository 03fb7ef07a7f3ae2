// Reward modelling (Ouyang et al. 2022; the Bradley–Terry model of pairwise preference): the
// decoder with a scalar value head on the last token scores a whole conversation, and for each
// pair the loss is −log σ(r_chosen − r_rejected). Logged as TRL's RewardTrainer does: `loss`,
// `accuracy` (chosen scored higher), `margin` (r_chosen − r_rejected), and both rewards.

import Foundation
import Tensor

final class RewardObjective: TrainingObjective {
    let model: TrainableLlama
    let pairs: [PreferenceSequences]
    let padID: Int

    init(model: TrainableLlama, pairs: [PreferenceSequences]) {
        self.model = model
        self.pairs = pairs
        padID = model.padID
    }

    var itemCount: Int { pairs.count }

    func units(_ items: [Int]) -> Double { Double(items.count) }

    func run(_ items: [Int], scale: Double, train: Bool) throws -> MicroBatchResult {
        let n = items.count
        let sequences = items.map { pairs[$0].chosen.ids } + items.map { pairs[$0].rejected.ids }   // 2B rows
        let batch = RightPadded(sequences, padID: padID)
        let r = try model.rewards(batch.ids, lengths: batch.lengths, batch: batch.rows, length: batch.length)  // [2B]
        let values = r.toArray().map(Double.init)
        var result = MicroBatchResult(lossSum: 0, tokens: batch.tokens)
        var gradient = [Float](repeating: 0, count: 2 * n)
        for k in 0..<n {
            let (rc, rr) = (values[k], values[n + k])
            let (loss, dMargin) = Self.loss(margin: rc - rr)
            gradient[k] = Float(scale * dMargin)
            gradient[n + k] = Float(-scale * dMargin)
            result.lossSum += loss
            result.metricSums["accuracy", default: 0] += rc > rr ? 1 : 0
            result.metricSums["margin", default: 0] += rc - rr
            result.metricSums["rewards/chosen", default: 0] += rc
            result.metricSums["rewards/rejected", default: 0] += rr
        }
        if train && r.requiresGrad { r.backward(gradient: try Tensor(gradient, shape: [2 * n])) }
        return result
    }

    /// −log σ(m) and its derivative −σ(−m), computed without overflow for large |m|.
    static func loss(margin m: Double) -> (Double, Double) {
        let logSigmoid = m >= 0 ? -Foundation.log1p(Foundation.exp(-m)) : m - Foundation.log1p(Foundation.exp(m))
        let sigmoidOfMinus = m >= 0 ? Foundation.exp(-m) / (1 + Foundation.exp(-m)) : 1 / (1 + Foundation.exp(m))
        return (-logSigmoid, -sigmoidOfMinus)
    }
}

/// Whole sequences right-padded to one length: ids [rows · length], and each row's real length.
struct RightPadded {
    let ids: [Int]
    let lengths: [Int]
    let rows: Int
    let length: Int
    var tokens: Int { lengths.reduce(0, +) }

    init(_ sequences: [[Int]], padID: Int) {
        rows = sequences.count
        length = max(1, sequences.map(\.count).max() ?? 1)
        var ids = [Int](repeating: padID, count: rows * length)
        for (r, s) in sequences.enumerated() { for (i, id) in s.enumerated() { ids[r * length + i] = id } }
        self.ids = ids
        lengths = sequences.map { max(1, $0.count) }
    }
}
