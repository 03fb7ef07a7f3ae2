// An adapter folder of any kind: adapter_config.json says which (`peft_type`: LORA, IA3,
// PROMPT_TUNING as PEFT names them; BITFIT is this project's own), adapter_model.safetensors holds
// the tensors. Writing, reading and checking are shared by the kinds.

import Foundation
import Tensor

enum AdapterFolder {
    /// adapter_config.json's peft_type (LORA when the field is absent, as in old PEFT files).
    static func peftType(_ directory: URL) throws -> String {
        let url = directory.appendingPathComponent(PEFTAdapter.configFile)
        guard let data = try? Data(contentsOf: url) else {
            throw GeneratorError.invalidWeights("\(directory.path): not an adapter folder (no \(PEFTAdapter.configFile))")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw GeneratorError.invalidWeights("\(url.path): not a JSON object")
        }
        return (object["peft_type"] as? String)?.uppercased() ?? "LORA"
    }

    /// The weights file of an adapter of type `expected`.
    static func weights(_ directory: URL, expecting expected: String) throws -> SafeTensorsFile {
        let type = try peftType(directory)
        guard type == expected else {
            throw GeneratorError.invalidWeights("\(directory.path): a \(type) adapter, not \(expected)")
        }
        let url = directory.appendingPathComponent(PEFTAdapter.weightsFile)
        do { return try SafeTensorsFile(url: url) } catch let error as TensorError {
            throw GeneratorError.invalidWeights("\(url.path): \(error.description)")
        }
    }

    static func tensor(_ file: SafeTensorsFile, _ key: String) throws -> Tensor {
        do { return try file.tensor(key) } catch let error as TensorError {
            throw GeneratorError.invalidWeights("\(file.url.path): \(error.description)")
        }
    }

    /// adapter_config.json + adapter_model.safetensors into `directory` (created).
    static func write(config: [String: Any], tensors: [(String, Tensor)], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: directory.appendingPathComponent(PEFTAdapter.configFile), options: .atomic)
        try SafeTensors.write(tensors, to: directory.appendingPathComponent(PEFTAdapter.weightsFile))
    }
}

extension LlamaLayerWeights {
    func matrix(_ role: LayerWeightRole) -> WeightMatrix {
        switch role {
        case .q: return wq
        case .k: return wk
        case .v: return wv
        case .o: return wo
        case .gate: return wGate
        case .up: return wUp
        case .down, .attentionNorm, .mlpNorm: return wDown
        }
    }

    /// These weights with one matrix replaced (an adapter folded in).
    func replacing(_ role: LayerWeightRole, with m: WeightMatrix) -> LlamaLayerWeights {
        LlamaLayerWeights(attentionNorm: attentionNorm, wq: role == .q ? m : wq, wk: role == .k ? m : wk, wv: role == .v ? m : wv,
                          wo: role == .o ? m : wo, mlpNorm: mlpNorm, wGate: role == .gate ? m : wGate, wUp: role == .up ? m : wUp,
                          wDown: role == .down ? m : wDown)
    }

    /// These weights with other norm gains (BitFit).
    func replacingNorms(attention: Tensor, mlp: Tensor) -> LlamaLayerWeights {
        LlamaLayerWeights(attentionNorm: attention, wq: wq, wk: wk, wv: wv, wo: wo, mlpNorm: mlp, wGate: wGate, wUp: wUp, wDown: wDown)
    }
}
