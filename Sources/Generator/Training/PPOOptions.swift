// The settings of `rag finetune ppo` that the other stages do not have (TRL's PPOConfig names and
// defaults where it has them). The shared ones (learning rate, batch size, steps, LoRA, seed …) are
// FinetuneOptions'.

import Foundation

public struct PPOOptions: Sendable {
    /// β of the per-token KL penalty against the reference (the model training started from).
    public var klCoef: Double = 0.05
    /// Adapt β towards this KL per response (nats); nil keeps β fixed.
    public var targetKL: Double?
    /// How fast the adaptive β moves (responses over which a full correction is applied).
    public var klHorizon: Double = 10_000
    /// Discount γ and GAE's λ.
    public var gamma: Double = 1
    public var lambda: Double = 0.95
    /// ε of the clipped policy ratio and of the clipped value update.
    public var clipRange: Double = 0.2
    public var clipRangeValue: Double = 0.2
    /// Weight of the value loss beside the policy loss.
    public var valueCoef: Double = 0.1
    /// Passes over each batch of rollouts, and optimizer steps per pass.
    public var ppoEpochs: Int = 4
    public var miniBatches: Int = 1
    /// Tokens sampled per response at most, and the sampling temperature (full softmax: no top-k/p).
    public var responseLength: Int = 53
    public var temperature: Float = 0.7
    /// Added to the score of a response that did not end its turn within `responseLength` (e.g. −1).
    public var missingEOSPenalty: Double?
    public var whitenAdvantages = true

    public init() {}

    func validate() throws {
        func bad(_ m: String) -> TrainingError { .options(m) }
        guard klCoef >= 0, klCoef.isFinite else { throw bad("--kl-coef must be ≥ 0") }
        if let t = targetKL, !(t > 0 && t.isFinite) { throw bad("--target-kl must be positive") }
        guard klHorizon > 0 else { throw bad("--kl-horizon must be positive") }
        guard (0...1).contains(gamma), (0...1).contains(lambda) else { throw bad("--gamma and --lam must be in [0, 1]") }
        guard clipRange > 0, clipRangeValue > 0 else { throw bad("--cliprange and --cliprange-value must be positive") }
        guard valueCoef >= 0 else { throw bad("--vf-coef must be ≥ 0") }
        guard ppoEpochs >= 1, miniBatches >= 1 else { throw bad("--ppo-epochs and --num-mini-batches must be at least 1") }
        guard responseLength >= 1 else { throw bad("--response-length must be at least 1") }
        guard temperature > 0, temperature.isFinite else { throw bad("--temperature must be positive (PPO samples)") }
    }
}
