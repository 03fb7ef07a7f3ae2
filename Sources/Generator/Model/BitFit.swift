// BitFit (Ben Zaken et al. 2022) trains only a model's biases; a Llama has none, so here it trains
// the other per-channel vectors, the RMSNorm gains (each layer's two and the final one): about 35k
// numbers for SmolLM2-135M. Saved as adapter_config.json {"peft_type": "BITFIT"} (this project's
// own: PEFT has no BitFit) beside adapter_model.safetensors holding those gains under Hugging Face's
// names (`model.layers.0.input_layernorm.weight`, …, `model.norm.weight`); for inference they
// replace the model's gains.

import Foundation
import Tensor

extension TrainableLlama {
    /// Trainable copies of every norm gain (the model is unchanged until they move).
    public func addBitFit() throws {
        guard method == .lora, lora == nil else { throw GeneratorError.invalidOptions("the model already has an adapter") }
        func trainable(_ t: Tensor) -> Tensor {
            let copy = t.denseCopy()
            copy.requiresGrad = true
            return copy
        }
        for layer in layers {
            layer.trainedAttentionNorm = trainable(layer.attentionNorm)
            layer.trainedMLPNorm = trainable(layer.mlpNorm)
        }
        trainedFinalNorm = trainable(finalNorm)
        method = .bitfit
    }

    /// The trained gains under Hugging Face's names.
    var bitFitTensors: [(String, Tensor)] {
        let names = LlamaWeightNames.huggingFace
        var out: [(String, Tensor)] = []
        for (l, layer) in layers.enumerated() {
            if let n = layer.trainedAttentionNorm { out.append((names.layer(l, .attentionNorm), n)) }
            if let n = layer.trainedMLPNorm { out.append((names.layer(l, .mlpNorm), n)) }
        }
        if let n = trainedFinalNorm { out.append((names.finalNorm, n)) }
        return out
    }

    func saveBitFit(to directory: URL, baseModelName: String) throws {
        let config: [String: Any] = [
            "peft_type": "BITFIT", "task_type": "CAUSAL_LM", "base_model_name_or_path": baseModelName,
            "trained": "RMSNorm gains (input_layernorm, post_attention_layernorm, norm): a Llama has no biases",
        ]
        try AdapterFolder.write(config: config, tensors: bitFitTensors.map { ($0.0, $0.1.denseIfNeeded) }, to: directory)
    }

    /// The gains of a saved BitFit adapter: as the trained values (resuming), or also as the frozen
    /// start that DPO's reference keeps (`asStart`).
    func loadBitFit(from directory: URL, asStart: Bool) throws {
        let file = try AdapterFolder.weights(directory, expecting: "BITFIT")
        let names = LlamaWeightNames.huggingFace
        func read(_ name: String) throws -> Tensor {
            let t = try AdapterFolder.tensor(file, name)
            guard t.shape == [config.dim] else { throw GeneratorError.invalidWeights("\(directory.path): '\(name)' is \(t.shape), this model needs [\(config.dim)]") }
            return t
        }
        func place(_ t: Tensor, into trained: inout Tensor?, start: inout Tensor?) {
            if let existing = trained, !asStart { existing.assignValues(t) } else {
                let copy = t.denseCopy()
                copy.requiresGrad = true
                trained = copy
            }
            if asStart { start = t.denseCopy() }
        }
        for (l, layer) in layers.enumerated() {
            place(try read(names.layer(l, .attentionNorm)), into: &layer.trainedAttentionNorm, start: &layer.referenceAttentionNorm)
            place(try read(names.layer(l, .mlpNorm)), into: &layer.trainedMLPNorm, start: &layer.referenceMLPNorm)
        }
        place(try read(names.finalNorm), into: &trainedFinalNorm, start: &referenceFinalNorm)
        method = .bitfit
    }
}

extension LlamaModel {
    /// This model with a BitFit adapter's norm gains in place of its own.
    func replacingNorms(_ directory: URL) throws -> LlamaModel {
        let file = try AdapterFolder.weights(directory, expecting: "BITFIT")
        let names = LlamaWeightNames.huggingFace
        func read(_ name: String) throws -> Tensor {
            let t = try AdapterFolder.tensor(file, name)
            guard t.shape == [config.dim] else { throw GeneratorError.invalidWeights("\(directory.path): '\(name)' is \(t.shape), this model needs [\(config.dim)]") }
            return t.denseCopy()
        }
        let layers = try weights.layers.enumerated().map { l, w in
            w.replacingNorms(attention: try read(names.layer(l, .attentionNorm)), mlp: try read(names.layer(l, .mlpNorm)))
        }
        return LlamaModel(base: self, weights: LlamaWeights(embedding: weights.embedding, layers: layers,
                                                                finalNorm: try read(names.finalNorm), output: weights.output),
                              virtualTokens: nil, adapterName: directory.lastPathComponent)
    }
}
