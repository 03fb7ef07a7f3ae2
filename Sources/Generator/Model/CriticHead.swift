// PPO's critic: a scalar head v_head.weight [1, C] on the policy's own final hidden states, so one
// forward pass gives both the log-probability of each next token and the value of each prefix
// (the shared-trunk critic of TRL's AutoModelForCausalLMWithValueHead). Trained with the policy's
// LoRA; saved in PPO checkpoints (value_head.safetensors) so that `--resume` continues it, not in
// the final adapter, which is an ordinary PEFT adapter.

import Foundation
import Tensor

extension TrainableLlama {
    public static let criticHeadFile = "value_head.safetensors"
    static let criticHeadKey = "v_head.weight"

    /// A fresh critic head, w ~ N(0, 0.02²) (seeded): every value starts near 0.
    func addCriticHead(seed: UInt64) {
        var rng = TensorRNG(seed: seed ^ 0xC417_1C00)
        let w = Tensor.randn([1, config.dim], std: 0.02, rng: &rng)
        w.requiresGrad = true
        criticHead = w
    }

    /// log p(targets[i] | ids[..i]) under logits / temperature, and the critic's value of each
    /// prefix ids[...i]: both [B, T], from one forward pass.
    func logProbsAndValues(_ ids: [Int], targets: [Int], batch b: Int, length t: Int, temperature: Float,
                           mode: AdapterMode = .policy) throws -> (logp: Tensor, values: Tensor) {
        guard let critic = criticHead else { throw GeneratorError.invalidOptions("the model has no critic head") }
        let h = try hiddenStates(ids, batch: b, length: t, mode: mode)                                  // [B, T, C]
        // The head has no bias, so scaling h scales the logits: log softmax(logits / T).
        let scaled = temperature == 1 ? h : h * (1 / temperature)
        let logp = try tokenLogProbs(scaled, targets: targets, mode: mode)                            // [B, T]
        let values = try Tensor.linear(h, weight: critic).reshape([b, t])                              // [B, T]
        return (logp, values)
    }

    func saveCriticHead(to directory: URL) throws {
        guard let critic = criticHead else { return }
        try SafeTensors.write([(Self.criticHeadKey, critic)], to: directory.appendingPathComponent(Self.criticHeadFile))
    }

    /// The critic saved in a PPO checkpoint.
    func loadCriticHead(from directory: URL) throws {
        criticHead = try readHead(directory.appendingPathComponent(Self.criticHeadFile), key: Self.criticHeadKey, into: criticHead) {
            TrainingError.checkpoint($0)
        }
    }
}
