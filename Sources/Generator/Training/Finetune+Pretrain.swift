// `rag finetune pretrain`: causal language modelling on plain text, every token a target, the texts
// packed into blocks of --max-length (PretrainData.swift). From an existing model (LoRA, or every
// weight with --full) or from a new random one (LlamaModel.createRandom, always --full).

import Foundation

extension Finetune {
    public static func pretrain(model: LlamaModel, texts: [String], output: URL, options: FinetuneOptions, baseModelName: String,
                                onData: (DatasetSummary) -> Void = { _ in }, shouldStop: @escaping @Sendable () -> Bool = { false },
                                progress: @escaping (FinetuneProgress) -> Void = { _ in }) throws -> FinetuneOutcome {
        try options.validate()
        let packed = try PackedTexts(texts: texts, tokenizer: model.tokenizer, endOfText: model.tokenizer.special.eos,
                                     blockLength: options.maxLength)
        onData(DatasetSummary(format: "text (\(texts.count) texts packed into blocks of \(options.maxLength))",
                              examples: packed.sequences.count, truncated: 0, dropped: 0, tokens: packed.tokens))
        let trainable = try prepare(model, options: options)
        let objective = SFTObjective(model: trainable, sequences: packed.sequences)
        return try FinetuneLoop(model: trainable, objective: objective, options: options, output: output,
                                baseModelName: baseModelName, shouldStop: shouldStop, progress: progress).run()
    }
}
