// Prompt tuning (Lester et al. 2021): N learned vectors, "virtual tokens", are put before every
// input's embeddings; the model's weights stay as they are. PEFT's layout: adapter_config.json
// {"peft_type": "PROMPT_TUNING", "num_virtual_tokens": N, "token_dim": C, …} and
// adapter_model.safetensors `prompt_embeddings` [N, C]. The vectors start as the embeddings of N
// tokens drawn from the vocabulary. For inference a prompt-tuned model takes ids vocab…vocab+N−1 as
// the virtual tokens, which DecodingSession puts before every prompt.

import Foundation
import SeededRandom
import Tensor

extension TrainableLlama {
    static let promptEmbeddingsKey = "prompt_embeddings"

    /// N fresh virtual tokens: the embeddings of N tokens drawn (seeded) from the ordinary vocabulary.
    public func addPromptTuning(virtualTokens n: Int, seed: UInt64) throws {
        guard method == .lora, lora == nil else { throw GeneratorError.invalidOptions("the model already has an adapter") }
        guard n >= 1, n < config.contextLength else {
            throw GeneratorError.invalidOptions("--num-virtual-tokens must be in 1..<\(config.contextLength) (got \(n))")
        }
        var rng = SplitMix64(seed: seed ^ 0x9207_7E11)
        let ordinary = model.tokenizer.vocabSize
        let table = Tensor(zeros: [n, config.dim])                                             // [N, C]
        for i in 0..<n {
            var id = Int(rng.next() % UInt64(ordinary))
            while model.endOfTurnTokens.contains(id) { id = (id + 1) % ordinary }
            try model.weights.embedding.row(id, into: table.data + i * config.dim)
        }
        table.requiresGrad = true
        promptEmbeddings = table
        method = .prompt
    }

    func savePromptTuning(to directory: URL, baseModelName: String) throws {
        guard let table = promptEmbeddings else { throw GeneratorError.invalidOptions("the model has no virtual tokens to save") }
        let config: [String: Any] = [
            "peft_type": "PROMPT_TUNING", "task_type": "CAUSAL_LM", "num_virtual_tokens": table.shape[0],
            "token_dim": self.config.dim, "num_transformer_submodules": 1, "num_attention_heads": self.config.heads,
            "num_layers": self.config.layers, "prompt_tuning_init": "RANDOM", "inference_mode": true,
            "base_model_name_or_path": baseModelName,
        ]
        try AdapterFolder.write(config: config, tensors: [(Self.promptEmbeddingsKey, table.denseIfNeeded)], to: directory)
    }

    /// The virtual tokens of a saved adapter: as the trained values (resuming), or also as the
    /// frozen start that DPO's reference keeps (`asStart`).
    func loadPromptTuning(from directory: URL, asStart: Bool) throws {
        let t = try LlamaModel.readPromptEmbeddings(directory, dim: config.dim)
        if let table = promptEmbeddings, !asStart, table.shape == t.shape { table.assignValues(t) } else {
            let copy = t.denseCopy()
            copy.requiresGrad = true
            promptEmbeddings = copy
        }
        if asStart { promptStart = t.denseCopy() }
        method = .prompt
    }

    /// x [B, T, C] with the virtual tokens of `mode` before it: [B, N + T, C] (N = 0: x itself).
    func prependingVirtualTokens(_ x: Tensor, mode: AdapterMode) throws -> (Tensor, Int) {
        let table: Tensor?
        switch mode {
        case .policy: table = promptEmbeddings
        case .reference: table = promptStart
        case .off: table = nil
        }
        guard let table else { return (x, 0) }
        let (b, n, c) = (x.shape[0], table.shape[0], table.shape[1])
        let one = try table.reshape([1, n, c])                                                   // [1, N, C]
        let prefix = b == 1 ? one : try Tensor.concat(Array(repeating: one, count: b), axis: 0)  // [B, N, C]
        return (try Tensor.concat([prefix, x], axis: 1), n)                                      // [B, N + T, C]
    }
}

extension LlamaModel {
    static func readPromptEmbeddings(_ directory: URL, dim: Int) throws -> Tensor {
        let file = try AdapterFolder.weights(directory, expecting: "PROMPT_TUNING")
        let t = try AdapterFolder.tensor(file, TrainableLlama.promptEmbeddingsKey)
        guard t.shape.count == 2, t.shape[1] == dim, t.shape[0] >= 1 else {
            throw GeneratorError.invalidWeights("\(directory.path): '\(TrainableLlama.promptEmbeddingsKey)' is \(t.shape), this model needs [N, \(dim)]")
        }
        return t.denseCopy()
    }

    /// This model with a prompt-tuning adapter's virtual tokens (ids vocab…vocab+N−1).
    func withVirtualTokens(_ directory: URL) throws -> LlamaModel {
        let table = try Self.readPromptEmbeddings(directory, dim: config.dim)
        guard table.shape[0] < config.contextLength else {
            throw GeneratorError.invalidWeights("\(directory.path): \(table.shape[0]) virtual tokens leave no room in a context of \(config.contextLength)")
        }
        return LlamaModel(base: self, weights: weights, virtualTokens: table, adapterName: directory.lastPathComponent)
    }

    /// The virtual tokens' ids, put before every prompt (none without prompt tuning).
    public var virtualTokenIDs: [Int] {
        guard let n = virtualTokens?.shape[0] else { return [] }
        return (0..<n).map { config.vocabSize + $0 }
    }

    /// The embedding of `token` into `out` [C]: a vocabulary row, or a virtual token's vector.
    func embed(_ token: Int, into out: UnsafeMutablePointer<Float>) throws {
        if token >= config.vocabSize, let table = virtualTokens, token - config.vocabSize < table.shape[0] {
            out.update(from: table.data + (token - config.vocabSize) * config.dim, count: config.dim)
            return
        }
        guard token >= 0, token < config.vocabSize else {
            throw GeneratorError.invalidOptions("token id \(token) is outside the vocabulary (0 ..< \(config.vocabSize))")
        }
        try weights.embedding.row(token, into: out)
    }
}
