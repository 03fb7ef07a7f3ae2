// The fine-tuning stages as the application calls them: read and check the data, put a LoRA
// adapter on the trainable Llama (fresh, or from a saved adapter), run the shared loop, write the
// PEFT adapter to the output folder.

import Foundation
import Tensor

/// DPO's loss on z = (log π_c - log π_r) - (log ref_c - log ref_r): `sigmoid` -log σ(βz) (with
/// label smoothing ε: conservative DPO), `ipo` (z - 1/2β)², `hinge` max(0, 1 - βz).
public enum DPOLoss: String, Sendable, CaseIterable {
    case sigmoid, ipo, hinge
}

public struct DPOOptions: Sendable {
    public var beta: Double = 0.1
    public var loss: DPOLoss = .sigmoid
    public var labelSmoothing: Double = 0
    /// No reference model: its log-probabilities are taken as 0.
    public var referenceFree = false
    public init() {}
}

/// What was read from the data file, for the user to check before training starts.
public struct DatasetSummary: Sendable {
    public var format: String
    public var examples: Int
    public var truncated: Int
    public var dropped: Int
    public var tokens: Int
}

public enum Finetune {
    /// Supervised fine-tuning on chat data. `onData` is told what was read before training starts.
    public static func sft(model: LlamaModel, data: URL, output: URL, options: FinetuneOptions, baseModelName: String,
                           onData: (DatasetSummary) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool = { false },
                           progress: @escaping (FinetuneProgress) -> Void = { _ in }) throws -> FinetuneOutcome {
        try options.validate()
        let dataset = try ChatDataset(url: data, model: model, maxLength: options.maxLength, trainOnPrompt: options.trainOnPrompt)
        onData(DatasetSummary(format: dataset.format.rawValue, examples: dataset.sequences.count, truncated: dataset.truncated,
                              dropped: dataset.dropped, tokens: dataset.sequences.reduce(0) { $0 + $1.ids.count }))
        let trainable = try prepare(model, options: options)
        let objective = SFTObjective(model: trainable, sequences: dataset.sequences)
        return try FinetuneLoop(model: trainable, objective: objective, options: options, output: output,
                                baseModelName: baseModelName, shouldStop: shouldStop, progress: progress).run()
    }

    /// Direct preference optimisation on preference pairs.
    public static func dpo(model: LlamaModel, data: URL, output: URL, options: FinetuneOptions, dpo: DPOOptions, baseModelName: String,
                           onData: (DatasetSummary) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool = { false },
                           progress: @escaping (FinetuneProgress) -> Void = { _ in }) throws -> FinetuneOutcome {
        try options.validate()
        guard dpo.beta > 0, dpo.beta.isFinite else { throw TrainingError.options("--beta must be positive") }
        guard dpo.labelSmoothing >= 0, dpo.labelSmoothing < 0.5 else { throw TrainingError.options("--label-smoothing must be in [0, 0.5)") }
        let dataset = try PreferenceDataset(url: data, model: model, maxLength: options.maxLength)
        onData(DatasetSummary(format: dataset.format.rawValue, examples: dataset.pairs.count, truncated: dataset.truncated,
                              dropped: dataset.dropped, tokens: dataset.pairs.reduce(0) { $0 + $1.chosen.ids.count + $1.rejected.ids.count }))
        let trainable = try prepare(model, options: options)
        let objective = DPOObjective(model: trainable, pairs: dataset.pairs, beta: dpo.beta, loss: dpo.loss,
                                     labelSmoothing: dpo.labelSmoothing, referenceFree: dpo.referenceFree)
        return try FinetuneLoop(model: trainable, objective: objective, options: options, output: output,
                                baseModelName: baseModelName, shouldStop: shouldStop, progress: progress).run()
    }

    /// A reward model: the decoder with a LoRA adapter and a scalar value head, trained on the same
    /// preference data as DPO with the Bradley–Terry loss. The head is saved beside the adapter.
    public static func rm(model: LlamaModel, data: URL, output: URL, options: FinetuneOptions, baseModelName: String,
                          onData: (DatasetSummary) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool = { false },
                          progress: @escaping (FinetuneProgress) -> Void = { _ in }) throws -> FinetuneOutcome {
        try options.validate()
        let dataset = try PreferenceDataset(url: data, model: model, maxLength: options.maxLength)
        onData(DatasetSummary(format: dataset.format.rawValue, examples: dataset.pairs.count, truncated: dataset.truncated,
                              dropped: dataset.dropped, tokens: dataset.pairs.reduce(0) { $0 + $1.chosen.ids.count + $1.rejected.ids.count }))
        let trainable = try prepare(model, options: options)
        if let initial = options.initialAdapter,
           FileManager.default.fileExists(atPath: initial.appendingPathComponent(TrainableLlama.valueHeadFile).path) {
            try trainable.loadValueHead(from: initial)
        } else {
            trainable.addValueHead(seed: options.seed)
        }
        let objective = RewardObjective(model: trainable, pairs: dataset.pairs)
        return try FinetuneLoop(model: trainable, objective: objective, options: options, output: output,
                                baseModelName: baseModelName, shouldStop: shouldStop, progress: progress).run()
    }

    /// RLHF with PPO: the policy (a LoRA adapter, fresh or from `initialAdapter`) samples responses
    /// to the prompts in `data`, `reward` scores them, and the clipped PPO updates move the policy
    /// towards higher reward under a KL penalty against where it started (PPOTrainer.swift).
    public static func ppo(model: LlamaModel, data: URL, output: URL, options: FinetuneOptions, ppo: PPOOptions,
                           reward: @escaping RewardFunction, baseModelName: String,
                           onData: (DatasetSummary) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool = { false },
                           progress: @escaping (FinetuneProgress) -> Void = { _ in }) throws -> FinetuneOutcome {
        try options.validate()
        try ppo.validate()
        guard !options.full else { throw TrainingError.options("PPO trains an adapter (the policy is sampled through it); drop --full") }
        let prompts = try PromptDataset(url: data, model: model, maxLength: options.maxLength, responseLength: ppo.responseLength)
        onData(DatasetSummary(format: "prompts", examples: prompts.prompts.count, truncated: 0, dropped: prompts.dropped,
                              tokens: prompts.prompts.reduce(0) { $0 + $1.ids.count }))
        let trainable = try prepare(model, options: options)
        return try PPOTrainer(model: trainable, prompts: prompts, reward: reward, options: options, ppo: ppo, output: output,
                              baseModelName: baseModelName, shouldStop: shouldStop, progress: progress).run()
    }

    /// The trainable model with its adapter: from `initialAdapter`, else fresh (seeded).
    static func prepare(_ model: LlamaModel, options: FinetuneOptions) throws -> TrainableLlama {
        if model.adapterName != nil {
            throw TrainingError.options("train on the base model; pass the adapter to start from as the initial adapter instead")
        }
        let trainable = TrainableLlama(model)
        if let initial = options.initialAdapter {
            // The folder says what it is; --peft, when given, must agree.
            try trainable.startFrom(adapter: initial, dropout: options.lora.dropout, seed: options.seed)
            if options.peft != .lora, options.peft != .qlora, options.peft != trainable.method {
                throw TrainingError.options("--peft \(options.peft.rawValue), but \(initial.path) is a \(trainable.method.rawValue) adapter")
            }
            return trainable
        }
        switch options.peft {
        case .full: try trainable.makeFullyTrainable()
        case .lora: try trainable.addLoRA(options.lora, seed: options.seed)
        case .qlora:
            guard model.isQuantized else {
                throw TrainingError.options("--peft qlora is LoRA over a quantized (GGUF) model's blocks; \(model.url.lastPathComponent) is not quantized: use --peft lora")
            }
            try trainable.addLoRA(options.lora, seed: options.seed)
        case .ia3: try trainable.addIA3(layers: options.lora.layers)
        case .bitfit: try trainable.addBitFit()
        case .prompt: try trainable.addPromptTuning(virtualTokens: options.numVirtualTokens, seed: options.seed)
        }
        return trainable
    }
}
