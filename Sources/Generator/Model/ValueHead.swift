// The scalar value head of a reward model: r = h_last · wᵀ, where h_last [C] is the final hidden
// state (after the last norm) of a sequence's last real token and w [1, C] is Hugging Face's
// LlamaForSequenceClassification `score.weight` (no bias). Trained with the LoRA adapter and saved
// beside it as OUT/reward_head.safetensors.

import Foundation
import Tensor

extension TrainableLlama {
    public static let valueHeadFile = "reward_head.safetensors"
    static let valueHeadKey = "score.weight"

    /// A fresh head, w ~ N(0, 0.02²) as transformers initialises `score` (seeded).
    public func addValueHead(seed: UInt64) {
        var rng = TensorRNG(seed: seed ^ 0x5C0_4E_4EAD)
        let w = Tensor.randn([1, config.dim], std: 0.02, rng: &rng)
        w.requiresGrad = true
        valueHead = w
    }

    /// The head saved in `directory` (a reward model's output folder).
    public func loadValueHead(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.valueHeadFile)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw GeneratorError.invalidWeights("\(directory.path): no \(Self.valueHeadFile) (not a reward model made by rag finetune rm)")
        }
        valueHead = try readHead(url, key: Self.valueHeadKey, into: valueHead) { GeneratorError.invalidWeights($0) }
    }

    /// A scalar head [1, C] from `url`'s tensor `key`: copied into `existing` (a resumed run's
    /// parameter keeps its identity for the optimizer), or a new trainable tensor.
    func readHead(_ url: URL, key: String, into existing: Tensor?, error: (String) -> Error) throws -> Tensor {
        let t: Tensor
        do { t = try SafeTensorsFile(url: url).tensor(key) } catch let e as TensorError {
            throw error("\(url.path): \(e.description)")
        }
        guard t.shape == [1, config.dim] else {
            throw error("\(url.path): '\(key)' is \(t.shape), this model needs [1, \(config.dim)]")
        }
        if let existing {
            existing.assignValues(t)
            return existing
        }
        let w = t.denseCopy()
        w.requiresGrad = true
        return w
    }

    func saveValueHead(to directory: URL) throws {
        guard let head = valueHead else { return }
        try SafeTensors.write([(Self.valueHeadKey, head)], to: directory.appendingPathComponent(Self.valueHeadFile))
    }

    /// Rewards of right-padded sequences: ids [B·T], lengths [B] (each ≥ 1) -> [B].
    public func rewards(_ ids: [Int], lengths: [Int], batch b: Int, length t: Int, mode: AdapterMode = .policy) throws -> Tensor {
        guard let head = valueHead else { throw GeneratorError.invalidOptions("the model has no value head (train one with rag finetune rm)") }
        guard lengths.count == b, lengths.allSatisfy({ $0 >= 1 && $0 <= t }) else {
            throw GeneratorError.invalidOptions("sequence lengths \(lengths) do not fit a batch of \(b) × \(t)")
        }
        let h = try hiddenStates(ids, batch: b, length: t, mode: mode).reshape([b * t, config.dim])        // [B·T, C]
        let last = try Tensor.embedding(h, ids: lengths.enumerated().map { $0 * t + $1 - 1 }, shape: [b])  // [B, C]
        return try Tensor.linear(last, weight: head).reshape([b])                                          // [B]
    }
}
