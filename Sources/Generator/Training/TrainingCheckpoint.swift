// A resumable checkpoint, OUT/checkpoint-STEP/:
//   adapter_config.json, adapter_model.safetensors   the adapter so far (a usable PEFT adapter), or with
//   config.json, model.safetensors, tokenizer…       --full the whole model so far (a usable model folder)
//   optimizer.safetensors                            AdamW's moments m.<name>, v.<name>
//   trainer_state.json                               step, total steps, seed, early-stopping state
//   value_head.safetensors                           PPO's critic (when training one)
// Written into a hidden folder first and renamed, so a checkpoint is either whole or absent.

import Foundation
import Tensor

struct TrainerState: Codable {
    var globalStep: Int
    var totalSteps: Int
    var bestEvalLoss: Double?
    var badEvaluations: Int
    var seed: UInt64
    /// AdamW's step count when it differs from `globalStep` (PPO: several updates per step).
    var optimizerSteps: Int?
    /// PPO's KL coefficient (it adapts during the run).
    var klCoef: Double?
}

enum TrainingCheckpoint {
    static let stateFile = "trainer_state.json"
    static let optimizerFile = "optimizer.safetensors"

    @discardableResult
    static func save(to output: URL, state: TrainerState, model: TrainableLlama, optimizer: AdamW, names: [String],
                     baseModelName: String) throws -> URL {
        let fm = FileManager.default
        let final = output.appendingPathComponent("checkpoint-\(state.globalStep)", isDirectory: true)
        let staging = output.appendingPathComponent(".checkpoint-\(state.globalStep)-partial", isDirectory: true)
        do {
            try? fm.removeItem(at: staging)
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try model.saveTrained(to: staging, baseModelName: baseModelName)
            try model.saveCriticHead(to: staging)
            try SafeTensors.write(optimizer.state(names: names), to: staging.appendingPathComponent(optimizerFile))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: staging.appendingPathComponent(stateFile))
            try? fm.removeItem(at: final)
            try fm.moveItem(at: staging, to: final)
        } catch let error as GeneratorError {
            throw error
        } catch {
            try? fm.removeItem(at: staging)
            throw TrainingError.checkpoint("cannot write \(final.path) (\(error.localizedDescription))")
        }
        return final
    }

    /// Loads the adapter weights and optimizer moments into `model` / `optimizer`; returns the state.
    static func restore(from dir: URL, model: TrainableLlama, optimizer: AdamW, names: [String]) throws -> TrainerState {
        let stateURL = dir.appendingPathComponent(stateFile)
        guard FileManager.default.fileExists(atPath: stateURL.path) else {
            throw TrainingError.checkpoint("\(dir.path) is not a training checkpoint (no \(stateFile))")
        }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: stateURL)) } catch {
            throw TrainingError.checkpoint("\(stateURL.path): unreadable (\(error.localizedDescription))")
        }
        try model.restoreTrained(from: dir)
        if model.criticHead != nil { try model.loadCriticHead(from: dir) }
        do {
            let file = try SafeTensorsFile(url: dir.appendingPathComponent(optimizerFile))
            try optimizer.restore(step: state.optimizerSteps ?? state.globalStep, names: names) { key in
                guard file.info(key) != nil else { throw TensorError.checkpoint("no optimizer state '\(key)' (a checkpoint of another adapter?)") }
                return try file.tensor(key)
            }
        } catch let error as TensorError {
            throw TrainingError.checkpoint("\(dir.path): \(error.description)")
        }
        return state
    }
}
