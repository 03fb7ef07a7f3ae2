// The arithmetic of PPO for language models (Ziegler et al. 2019, Ouyang et al. 2022), separate
// from the model so it can be read and tested on numbers: per-token rewards with the KL penalty,
// generalised advantage estimation, whitening, the adaptive KL coefficient, and the clipped
// policy and value losses with their derivatives.

import Foundation

enum PPOMath {
    /// Per-token rewards of one response: r_t = −β·(log π_old − log π_ref)_t, plus the score on the
    /// last token. Also the per-token KL estimate (the "k1" estimator, log π_old − log π_ref).
    static func rewards(score: Double, logpOld: [Double], logpRef: [Double], klCoef: Double) -> (rewards: [Double], kl: [Double]) {
        let kl = zip(logpOld, logpRef).map { $0 - $1 }
        var rewards = kl.map { -klCoef * $0 }
        if !rewards.isEmpty { rewards[rewards.count - 1] += score }
        return (rewards, kl)
    }

    /// Generalised advantage estimation (Schulman et al. 2016) over one response:
    /// δ_t = r_t + γ·V_{t+1} − V_t (V after the last token is 0), A_t = δ_t + γλ·A_{t+1};
    /// returns R_t = A_t + V_t are the critic's targets.
    static func gae(rewards: [Double], values: [Double], gamma: Double, lambda: Double) -> (advantages: [Double], returns: [Double]) {
        let n = rewards.count
        var advantages = [Double](repeating: 0, count: n)
        var next = 0.0, nextValue = 0.0
        for t in stride(from: n - 1, through: 0, by: -1) {
            let delta = rewards[t] + gamma * nextValue - values[t]
            next = delta + gamma * lambda * next
            advantages[t] = next
            nextValue = values[t]
        }
        return (advantages, zip(advantages, values).map { $0 + $1 })
    }

    /// Every token's value shifted to mean 0 and scaled to variance 1 over the whole batch
    /// (unchanged when the batch has no spread).
    static func whiten(_ rows: [[Double]]) -> [[Double]] {
        let all = rows.flatMap { $0 }
        guard all.count > 1 else { return rows }
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count - 1)
        let std = variance.squareRoot()
        guard std > 1e-12 else { return rows.map { $0.map { $0 - mean } } }
        return rows.map { $0.map { ($0 - mean) / (std + 1e-8) } }
    }

    /// Clipped surrogate of one token: max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)) with ρ = exp(log π − log π_old).
    /// Returns the loss, its derivative with respect to log π, and whether the clipped term won.
    static func policyLoss(logp: Double, logpOld: Double, advantage a: Double, clip eps: Double) -> (loss: Double, dLogp: Double, clipped: Bool) {
        let ratio = Foundation.exp(logp - logpOld)
        let unclipped = -a * ratio
        let clipped = -a * min(max(ratio, 1 - eps), 1 + eps)
        // The clipped term is larger only where ρ is outside [1 − ε, 1 + ε]: there it is flat in log π.
        return unclipped >= clipped ? (unclipped, -a * ratio, false) : (clipped, 0, true)
    }

    /// Clipped value loss of one token: ½·max((V − R)², (V_clip − R)²) with
    /// V_clip = V_old + clip(V − V_old, −ε, ε). Returns the loss, dLoss/dV and whether the clip won.
    static func valueLoss(value v: Double, valueOld: Double, ret: Double, clip eps: Double) -> (loss: Double, dValue: Double, clipped: Bool) {
        let vClipped = valueOld + min(max(v - valueOld, -eps), eps)
        let plain = 0.5 * (v - ret) * (v - ret)
        let clipped = 0.5 * (vClipped - ret) * (vClipped - ret)
        if plain >= clipped { return (plain, v - ret, false) }
        let inside = abs(v - valueOld) <= eps
        return (clipped, inside ? vClipped - ret : 0, true)
    }
}

/// The KL coefficient β: fixed, or adapted towards a target KL (Ziegler et al. 2019):
/// β ← β·(1 + clip(KL/target − 1, −0.2, 0.2)·n/horizon) after each batch of n responses.
struct KLController: Codable, Equatable {
    var value: Double
    let target: Double?
    let horizon: Double

    mutating func update(meanKL: Double, responses n: Int) {
        guard let target, target > 0 else { return }
        let error = min(max(meanKL / target - 1, -0.2), 0.2)
        value *= 1 + error * Double(n) / horizon
    }
}
