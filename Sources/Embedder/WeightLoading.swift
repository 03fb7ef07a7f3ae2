import Foundation
import Tensor

extension BertModel {
    /// Copies every parameter from a safetensors file, under its checkpoint name with or without
    /// the `bert.` prefix. Throws naming the file and the tensor when one is missing or mis-shaped.
    func loadWeights(from url: URL) throws {
        let path = url.path
        guard FileManager.default.fileExists(atPath: path) else { throw EmbedderError.missingFile(path: path) }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: url) } catch {
            throw EmbedderError.weights(path: path, reason: "\(error)")
        }
        let params = namedParameters()
        let prefix = file.info(params[0].0) == nil && file.info("bert." + params[0].0) != nil ? "bert." : ""
        for (name, parameter) in params {
            let key = prefix + name
            guard let info = file.info(key) else {
                throw EmbedderError.weights(path: path, reason: "missing tensor `\(key)`")
            }
            guard info.shape == parameter.shape else {
                throw EmbedderError.weights(path: path, reason: "tensor `\(key)` has shape \(info.shape), the config expects \(parameter.shape)")
            }
            do {
                try parameter.copyValues(from: try file.tensor(key))
            } catch let error as EmbedderError {
                throw error
            } catch {
                throw EmbedderError.weights(path: path, reason: "tensor `\(key)`: \(error)")
            }
        }
    }

    /// The parameters to save: LoRA adapters folded into copies of their base weights
    /// (W + (alpha / r) B A), adapter tensors left out. The model itself is not changed.
    func exportedParameters() throws -> [(String, Tensor)] {
        var merged: [String: Tensor] = [:]
        try noGrad {
            for (name, linear) in linearLayers() {
                guard let lora = linear.lora, !lora.merged else { continue }
                merged[name + ".weight"] = try linear.weight + (try lora.b.matmul(lora.a)) * lora.scale  // [out, in]
            }
        }
        return namedParameters().filter { !$0.0.contains(".lora_") }.map { ($0.0, merged[$0.0] ?? $0.1) }
    }
}

extension Tensor {
    /// Overwrites this (dense) tensor's values with `source`'s (same shape), outside autograd.
    func copyValues(from source: Tensor) throws {
        guard source.shape == shape, isContiguous else {
            throw EmbedderError.invalidArgument("copy of \(source.shape) into \(shape)")
        }
        let values = source.isContiguous ? source : source.denseCopy()
        storage.markModified()
        data.update(from: values.data, count: count)
    }
}
