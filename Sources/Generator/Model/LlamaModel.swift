// A loaded Llama-family decoder: configuration, read-only weights (shared by every Generator),
// tokenizer and chat template. Loads a GGUF file or a Hugging Face folder (config.json +
// model.safetensors).

import Foundation
import Tensor

public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    let weights: LlamaWeights
    let rope: RopeTable
    /// The GGUF file or folder it came from.
    public let url: URL

    init(config: LlamaConfig, weights: LlamaWeights, url: URL) {
        self.config = config
        self.weights = weights
        self.url = url
        rope = RopeTable(theta: config.ropeTheta, rotaryDim: config.rotaryDim)
    }

    /// A GGUF file (general.architecture = llama) or a Hugging Face folder.
    public static func load(from url: URL) throws -> LlamaModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw GeneratorError.invalidWeights("\(url.path): no such file or folder")
        }
        return isDirectory.boolValue ? try loadHuggingFace(folder: url) : try loadGGUF(url)
    }

    static func loadGGUF(_ url: URL) throws -> LlamaModel {
        let file: GGUFFile
        do { file = try GGUFFile(url: url) } catch let error as TensorError { throw GeneratorError.invalidWeights(error.description) }
        let config = try LlamaConfig(gguf: file)
        let weights = try LlamaWeights(config: config, source: GGUFWeightSource(file: file), names: .gguf)
        return LlamaModel(config: config, weights: weights, url: url)
    }

    static func loadHuggingFace(folder: URL) throws -> LlamaModel {
        let configURL = folder.appendingPathComponent("config.json")
        let weightsURL = folder.appendingPathComponent("model.safetensors")
        for needed in [configURL, weightsURL] where !FileManager.default.fileExists(atPath: needed.path) {
            throw GeneratorError.invalidWeights("\(folder.path): no \(needed.lastPathComponent)")
        }
        var config = try LlamaConfig(configJSON: configURL)
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(url: weightsURL) } catch let error as TensorError {
            throw GeneratorError.invalidWeights(error.description)
        }
        let source = SafeTensorsWeightSource(file: file)
        if !source.hasTensor(LlamaWeightNames.huggingFace.output) { config.tiedEmbeddings = true }
        let weights = try LlamaWeights(config: config, source: source, names: .huggingFace)
        return LlamaModel(config: config, weights: weights, url: folder)
    }
}
