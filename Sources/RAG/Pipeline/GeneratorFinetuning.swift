import Foundation
import Generator
import Tokenizers

// `rag finetune sft|dpo`: the generator (default: SmolLM2) retrained on the user's data with LoRA
// (QLoRA over a GGUF file's quantized blocks); the PEFT adapter written to the output folder is
// used at once with `rag --adapter OUT`.

// (The option and progress types are the Generator module's own: FinetuneOptions, LoRAOptions,
// DPOOptions, FinetuneProgress, FinetuneOutcome.)

public enum GeneratorFinetuning {
    public enum Stage: Sendable {
        case sft
        case dpo(DPOOptions)
        /// A reward model (value head + adapter), Bradley–Terry loss on preference pairs.
        case rm
        /// RLHF with PPO against the reward model in `reward` (the output folder of `rm`).
        case ppo(PPOOptions, reward: URL)
        /// Causal language modelling on texts; with `config` (and `tokenizer`) from a new random model.
        case pretrain(config: URL?, tokenizer: URL?)
    }

    /// Loads the generator (`modelPath`, else the default), checks the options against the output
    /// folder, and trains.
    public static func run(_ stage: Stage, modelPath: String?, data: URL, output: URL, options: FinetuneOptions,
                           models: ModelLocator = ModelLocator(), log: @escaping (String) -> Void,
                           shouldStop: @escaping @Sendable () -> Bool, progress: @escaping (FinetuneProgress) -> Void) throws -> FinetuneOutcome {
        guard FileManager.default.fileExists(atPath: data.path) else { throw RAGError.invalidInput("\(data.path): no such data file") }
        if options.resume == nil, FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path) {
            log("note: \(output.path) already holds an adapter; it is replaced only when this run finishes")
        }
        var options = options
        let model: LlamaModel, baseName: String
        var scratch: URL?
        defer { if let scratch { try? FileManager.default.removeItem(at: scratch) } }
        if case .pretrain(let config?, let tokenizer) = stage {
            guard let tokenizer else { throw RAGError.invalidInput("--config needs --tokenizer (a tokenizer.json, e.g. from rag tokenizer train)") }
            guard modelPath == nil else { throw RAGError.invalidInput("--config starts a new model; it cannot be combined with --model") }
            // The random start is written beside the run (the same seed makes the same start on --resume).
            let folder = output.appendingPathComponent(".random-init-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
            scratch = folder
            model = try LlamaModel.createRandom(configFile: config, tokenizerFile: tokenizer, seed: options.seed, in: folder)
            baseName = config.deletingPathExtension().lastPathComponent
            if !options.full { log("note: a new model trains every weight (--full)") }
            options.full = true
            log("new model from \(config.lastPathComponent): \(model.config.layers) layers, dim \(model.config.dim), vocabulary \(model.config.vocabSize), random (seed \(options.seed))")
        } else {
            let url = try models.generator(modelPath)
            model = try LlamaModel.load(from: url)
            baseName = url.lastPathComponent
            log("model \(url.lastPathComponent): \(model.config.layers) layers, dim \(model.config.dim), vocabulary \(model.config.vocabSize)")
        }
        if options.frozenPrecision == .bfloat16 {
            log(FinetuneOptions.bf16IsAvailable ? "frozen weights multiplied in bf16 (Float32 sums)"
                                                : "note: --bf16: this CPU has no AVX512-BF16; the products run in Float32")
        }
        func describe(_ s: DatasetSummary) {
            var line = "data \(data.lastPathComponent): format \(s.format), \(s.examples) \(stageNoun(stage)), \(s.tokens) tokens"
            if s.truncated > 0 { line += ", \(s.truncated) cut to --max-length \(options.maxLength) (the end is dropped)" }
            if s.dropped > 0, case .ppo = stage {
                line += ", \(s.dropped) dropped (longer than --max-length minus --response-length)"
            } else if s.dropped > 0 {
                line += ", \(s.dropped) dropped (nothing left to learn within --max-length)"
            }
            log(line)
        }
        switch stage {
        case .sft:
            return try Finetune.sft(model: model, data: data, output: output, options: options, baseModelName: baseName,
                                    onData: describe, shouldStop: shouldStop, progress: progress)
        case .dpo(let dpo):
            return try Finetune.dpo(model: model, data: data, output: output, options: options, dpo: dpo,
                                    baseModelName: baseName, onData: describe, shouldStop: shouldStop, progress: progress)
        case .rm:
            return try Finetune.rm(model: model, data: data, output: output, options: options, baseModelName: baseName,
                                   onData: describe, shouldStop: shouldStop, progress: progress)
        case .pretrain:
            let texts = try PretrainTexts.read(data)
            return try Finetune.pretrain(model: model, texts: texts, output: output, options: options, baseModelName: baseName,
                                         onData: describe, shouldStop: shouldStop, progress: progress)
        case .ppo(let ppo, let rewardFolder):
            guard FileManager.default.fileExists(atPath: rewardFolder.path) else {
                throw RAGError.invalidInput("\(rewardFolder.path): no such reward model folder (train one with rag finetune rm)")
            }
            let scorer = try RewardScorer(model: model, directory: rewardFolder, maxLength: options.maxLength)
            log("reward model \(rewardFolder.lastPathComponent): its adapter and \(TrainableLlama.valueHeadFile)")
            return try Finetune.ppo(model: model, data: data, output: output, options: options, ppo: ppo,
                                    reward: { prompt, response in
                                        try scorer.reward(prompt: prompt, response: [ChatMessage(role: "assistant", content: response)])
                                    },
                                    baseModelName: baseName, onData: describe, shouldStop: shouldStop, progress: progress)
        }
    }

    private static func stageNoun(_ stage: Stage) -> String {
        switch stage {
        case .sft: return "examples"
        case .ppo: return "prompts"
        case .pretrain: return "blocks"
        case .dpo, .rm: return "preference pairs"
        }
    }

    /// `rag finetune eval-classify`: accuracy and macro-F1 of the generator (with `adapter`) on the
    /// held-out split of text,label data.
    public static func evaluateClassification(modelPath: String?, adapter: URL?, data: URL, evalSplit: Double, seed: UInt64,
                                              models: ModelLocator = ModelLocator()) throws -> ClassificationReport {
        let url = try models.generator(modelPath)
        guard FileManager.default.fileExists(atPath: data.path) else { throw RAGError.invalidInput("\(data.path): no such data file") }
        return try Finetune.evaluateClassification(model: try LlamaModel.load(from: url), adapter: adapter, data: data,
                                                   evalSplit: evalSplit, seed: seed)
    }

    /// `rag adapter merge`: the generator with `adapter` folded into its weights, written to `output`
    /// as a Hugging Face folder (config.json, model.safetensors, tokenizer files).
    public static func mergeAdapter(modelPath: String?, adapter: URL, output: URL, weightType: MergedWeightType,
                                    models: ModelLocator = ModelLocator()) throws {
        let url = try models.generator(modelPath)
        guard FileManager.default.fileExists(atPath: adapter.path) else { throw RAGError.invalidInput("\(adapter.path): no such adapter folder") }
        let model = try LlamaModel.load(from: url).adapted(by: adapter)
        try model.writeMerged(to: output, weightType: weightType)
    }

    /// `rag score --reward DIR`: the reward of each {prompt, response} record, as JSON lines.
    public static func score(modelPath: String?, reward: URL, data: URL, maxLength: Int,
                             models: ModelLocator = ModelLocator()) throws -> [String] {
        let url = try models.generator(modelPath)
        guard FileManager.default.fileExists(atPath: data.path) else { throw RAGError.invalidInput("\(data.path): no such data file") }
        return try RewardScorer(model: try LlamaModel.load(from: url), directory: reward, maxLength: maxLength).scoreFile(data)
    }
}
