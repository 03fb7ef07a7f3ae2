import Foundation
import Tensor

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
        try writeJSONObject(["step": step, "optimizer_step": optimizer.stepCount, "pairs": fingerprint,
                             "seed": String(config.seed), "batch_size": config.batchSize, "lora": config.lora != nil],
                            to: dir.appendingPathComponent("trainer_state.json"))
        return dir
    }

    /// Loads weights and optimizer state; returns the step to continue from.
    func restoreCheckpoint(_ dir: URL, fingerprint: String) throws -> Int {
        let stateURL = dir.appendingPathComponent("trainer_state.json")
        let state = try readJSONObject(stateURL)
        guard let step = state["step"] as? Int, let optimizerStep = state["optimizer_step"] as? Int else {
            throw EmbedderError.missingField(path: stateURL.path, field: "step")
        }
        guard state["pairs"] as? String == fingerprint else {
            throw EmbedderError.invalidField(path: stateURL.path, field: "pairs",
                                             reason: "was written for other training pairs (\(state["pairs"] ?? "none")), not \(fingerprint)")
        }
        guard state["seed"] as? String == String(config.seed), state["batch_size"] as? Int == config.batchSize,
              state["lora"] as? Bool == (config.lora != nil) else {
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
