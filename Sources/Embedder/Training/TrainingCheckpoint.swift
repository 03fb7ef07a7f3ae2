import Foundation
import Tensor
import Tokenizers

// A checkpoint folder `step-N/`: the model in the Hugging Face layout (usable as is, LoRA merged),
// `trainer_state.safetensors` (every raw parameter, LoRA adapters included, and the AdamW moments)
// and `trainer_state.json` (step, pairs fingerprint, seed).

extension ContrastiveTrainer {
    func saveCheckpoint(in directory: URL, step: Int, fingerprint: String) throws -> URL {
        let dir = directory.appendingPathComponent("step-\(step)")
        try encoder.save(to: dir)
        let tensors = encoder.model.namedParameters().map { ("param." + $0.0, $0.1) }
            + optimizer.state(names: trainableNames)
        try SafeTensors.write(tensors, to: dir.appendingPathComponent("trainer_state.safetensors"))
        let state = TrainerState(step: step, optimizerStep: optimizer.stepCount, pairs: fingerprint,
                                 seed: String(config.seed), batchSize: config.batchSize, lora: config.lora != nil)
        let json = JSONEncoder()
        json.outputFormatting = [.prettyPrinted, .sortedKeys]
        try json.encode(state).write(to: dir.appendingPathComponent("trainer_state.json"), options: .atomic)
        return dir
    }

    /// Loads weights and optimizer state; returns the step to continue from.
    func restoreCheckpoint(_ dir: URL, fingerprint: String) throws -> Int {
        let stateURL = dir.appendingPathComponent("trainer_state.json")
        let state = try JSONFile.decode(TrainerState.self, from: stateURL)
        let step = state.step, optimizerStep = state.optimizerStep
        guard state.pairs == fingerprint else {
            throw EmbedderError.invalidField(path: stateURL.path, field: "pairs",
                                             reason: "was written for other training pairs (\(state.pairs)), not \(fingerprint)")
        }
        guard state.seed == String(config.seed), state.batchSize == config.batchSize, state.lora == (config.lora != nil) else {
            throw EmbedderError.invalidField(path: stateURL.path, field: "seed",
                                             reason: "seed, batch size or LoRA differ from this run's configuration")
        }
        let tensorsURL = dir.appendingPathComponent("trainer_state.safetensors")
        guard FileManager.default.fileExists(atPath: tensorsURL.path) else { throw EmbedderError.missingFile(path: tensorsURL.path) }
        let file = try SafeTensorsFile(url: tensorsURL)
        func read(_ name: String) throws -> Tensor {
            guard file.info(name) != nil else {
                throw EmbedderError.weights(path: tensorsURL.path, reason: "missing tensor `\(name)`")
            }
            return try file.tensor(name)
        }
        for (name, parameter) in encoder.model.namedParameters() {
            try parameter.copyValues(from: try read("param." + name))
        }
        try optimizer.restore(step: optimizerStep, names: trainableNames, from: read)
        return step
    }
}

/// `trainer_state.json`: where a checkpoint stopped and what it was trained on.
struct TrainerState: Codable {
    var step: Int
    var optimizerStep: Int
    /// The training pairs' fingerprint (`ContrastiveTrainer.fingerprint`).
    var pairs: String
    /// The seed as a decimal string (a UInt64 does not survive a JSON number).
    var seed: String
    var batchSize: Int
    var lora: Bool

    enum CodingKeys: String, CodingKey {
        case step, optimizerStep = "optimizer_step", pairs, seed, batchSize = "batch_size", lora
    }
}
