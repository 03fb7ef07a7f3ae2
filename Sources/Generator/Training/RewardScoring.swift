// `rag score --reward DIR`: a reward model made by `rag finetune rm` (its LoRA adapter and value
// head over the base model) scores prompt/response records, rendered with the model's chat
// template as in training.

import Foundation
import Tensor
import Tokenizers

public final class RewardScorer {
    let trainable: TrainableLlama
    let maxLength: Int

    /// `model` is the base the reward model was trained on; `directory` its output folder: an
    /// adapter and head, or (trained with --full) a whole model folder and head, which replaces `model`.
    public init(model: LlamaModel, directory: URL, maxLength: Int = 2048) throws {
        guard model.adapterName == nil else { throw TrainingError.options("give the base model; the reward model's adapter is read from \(directory.path)") }
        let fm = FileManager.default
        if !fm.fileExists(atPath: directory.appendingPathComponent(PEFTAdapter.configFile).path),
           fm.fileExists(atPath: directory.appendingPathComponent("config.json").path) {
            trainable = TrainableLlama(try LlamaModel.load(from: directory))
        } else {
            trainable = TrainableLlama(model)
            try trainable.startFrom(adapter: directory, dropout: 0, seed: 0)
        }
        try trainable.loadValueHead(from: directory)
        trainable.setTraining(false)
        self.maxLength = maxLength
    }

    /// The reward of `response` (the assistant's turn) after `prompt`; a conversation longer than
    /// `maxLength` tokens keeps its first tokens, as in training.
    public func reward(prompt: [ChatMessage], response: [ChatMessage]) throws -> Double {
        let model = trainable.model
        let ids = Array(try model.chatTemplate.encode(prompt + response, tokenizer: model.tokenizer, addGenerationPrompt: false).ids.prefix(maxLength))
        guard !ids.isEmpty else { throw TrainingError.data("an empty conversation has no reward") }
        let r = try noGrad { try trainable.rewards(ids, lengths: [ids.count], batch: 1, length: ids.count) }
        return Double(r.toArray()[0])
    }

    /// Every record of a JSONL file or JSON array — `{"prompt", "response"}`, each a string or a
    /// list of messages — as JSON text with `"reward"` added.
    public func scoreFile(_ url: URL) throws -> [String] {
        try DataRecords.read(url).map { r in
            let reward = try self.reward(prompt: try PreferenceDataset.promptMessages(r, field: "prompt"),
                                         response: try PreferenceDataset.reply(r, field: "response"))
            var object = r.object
            object["reward"] = reward
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }
}
