import Foundation
import Generator

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
    }

    /// Loads the generator (`modelPath`, else the default), checks the options against the output
    /// folder, and trains.
    public static func run(_ stage: Stage, modelPath: String?, data: URL, output: URL, options: FinetuneOptions,
                           models: ModelLocator = ModelLocator(), log: @escaping (String) -> Void,
                           shouldStop: @escaping @Sendable () -> Bool, progress: @escaping (FinetuneProgress) -> Void) throws -> FinetuneOutcome {
        let url = try models.generator(modelPath)
        guard FileManager.default.fileExists(atPath: data.path) else { throw RAGError.invalidInput("\(data.path): no such data file") }
        if options.resume == nil, FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path) {
            log("note: \(output.path) already holds an adapter; it is replaced only when this run finishes")
        }
        let model = try LlamaModel.load(from: url)
        log("model \(url.lastPathComponent): \(model.config.layers) layers, dim \(model.config.dim), vocabulary \(model.config.vocabSize)")
        func describe(_ s: DatasetSummary) {
            var line = "data \(data.lastPathComponent): format \(s.format), \(s.examples) \(stageNoun(stage)), \(s.tokens) tokens"
            if s.truncated > 0 { line += ", \(s.truncated) cut to --max-length \(options.maxLength) (the end is dropped)" }
            if s.dropped > 0 { line += ", \(s.dropped) dropped (nothing left to learn within --max-length)" }
            log(line)
        }
        switch stage {
        case .sft:
            return try Finetune.sft(model: model, data: data, output: output, options: options, baseModelName: url.lastPathComponent,
                                    onData: describe, shouldStop: shouldStop, progress: progress)
        case .dpo(let dpo):
            return try Finetune.dpo(model: model, data: data, output: output, options: options, dpo: dpo,
                                    baseModelName: url.lastPathComponent, onData: describe, shouldStop: shouldStop, progress: progress)
        case .rm:
            return try Finetune.rm(model: model, data: data, output: output, options: options, baseModelName: url.lastPathComponent,
                                   onData: describe, shouldStop: shouldStop, progress: progress)
        }
    }

    private static func stageNoun(_ stage: Stage) -> String {
        if case .sft = stage { return "examples" }
        return "preference pairs"
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
