// (IA)³ (Liu et al. 2022, "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than
// In-Context Learning"): learned vectors rescale the keys, the values and the input of the MLP's
// down projection,
//   k = l_k ⊙ (W_k x)      v = l_v ⊙ (W_v x)      y = W_down (l_ff ⊙ h)
// each starting at 1 (the base model). PEFT's layout: adapter_config.json {"peft_type": "IA3",
// "target_modules": [k_proj, v_proj, down_proj], "feedforward_modules": [down_proj]} and
// adapter_model.safetensors `base_model.model.<module>.ia3_l`, [out, 1] for k and v, [1, in] for
// down_proj. For inference the vectors are folded into the three matrices (rows of W_k and W_v,
// columns of W_down), which then are dense F32: exact, and nothing changes in the decoding loop.

import Foundation
import Tensor

/// The projections (IA)³ rescales, and whether it scales the input (feed-forward) or the output.
enum IA3Target {
    static let roles: [LayerWeightRole] = [.k, .v, .down]
    static func scalesInput(_ role: LayerWeightRole) -> Bool { role == .down }
}

extension TrainableLlama {
    /// Fresh (IA)³ vectors (all ones: the model is unchanged) on k, v and down_proj of `layers` (all when nil).
    public func addIA3(layers chosen: [Int]?) throws {
        guard method == .lora, lora == nil else { throw GeneratorError.invalidOptions("the model already has an adapter") }
        if let bad = chosen?.first(where: { $0 < 0 || $0 >= layers.count }) {
            throw GeneratorError.invalidOptions("layer \(bad) does not exist (the model has \(layers.count))")
        }
        for (l, layer) in layers.enumerated() where chosen?.contains(l) ?? true {
            for p in layer.projections where IA3Target.roles.contains(p.role) {
                let n = IA3Target.scalesInput(p.role) ? p.base.cols : p.base.rows
                let v = Tensor(repeating: 1, shape: [n])
                v.requiresGrad = true
                p.ia3 = v
            }
        }
        method = .ia3
    }

    /// The vectors under PEFT's names and shapes, in Hugging Face's row order.
    func ia3Tensors() throws -> [(String, Tensor)] {
        try projections.compactMap { p in
            guard let v = p.ia3 else { return nil }
            let inputSide = IA3Target.scalesInput(p.role)
            var t = try v.denseIfNeeded.reshape(inputSide ? [1, v.count] : [v.count, 1])
            if !inputSide { t = huggingFaceRowOrder(t, role: p.role, toModel: false) }
            return ("base_model.model.\(p.path).ia3_l", t)
        }
    }

    func saveIA3(to directory: URL, baseModelName: String) throws {
        let layersUsed = Set(projections.filter { $0.ia3 != nil }.map(\.layer)).sorted()
        let config: [String: Any] = [
            "peft_type": "IA3", "task_type": "CAUSAL_LM", "target_modules": ["k_proj", "v_proj", "down_proj"],
            "feedforward_modules": ["down_proj"], "fan_in_fan_out": false, "init_ia3_weights": true, "inference_mode": true,
            "base_model_name_or_path": baseModelName, "modules_to_save": NSNull(),
            "layers_to_transform": layersUsed.count == layers.count ? NSNull() : layersUsed as Any,
        ]
        try AdapterFolder.write(config: config, tensors: try ia3Tensors(), to: directory)
    }

    /// The vectors of a saved (IA)³ adapter: as the trained values (resuming), or also as the
    /// frozen start that DPO's reference keeps (`asStart`).
    func loadIA3(from directory: URL, asStart: Bool) throws {
        let file = try AdapterFolder.weights(directory, expecting: "IA3")
        var found = 0
        for p in projections where IA3Target.roles.contains(p.role) {
            let key = "base_model.model.\(p.path).ia3_l"
            guard file.info(key) != nil else { continue }
            let inputSide = IA3Target.scalesInput(p.role)
            var t = try AdapterFolder.tensor(file, key)
            let n = inputSide ? p.base.cols : p.base.rows
            guard t.count == n else { throw GeneratorError.invalidWeights("\(directory.path): '\(key)' has \(t.count) values, \(p.path) needs \(n)") }
            if !inputSide { t = huggingFaceRowOrder(try t.reshape([n, 1]), role: p.role, toModel: true) }
            let values = try t.denseIfNeeded.reshape([n])
            if let v = p.ia3, !asStart { v.assignValues(values) } else {
                let v = values.denseCopy()
                v.requiresGrad = true
                p.ia3 = v
            }
            if asStart { p.ia3Start = values.denseCopy() }
            found += 1
        }
        guard found > 0 else { throw GeneratorError.invalidWeights("\(directory.path): no ia3_l vectors for this model") }
        method = .ia3
    }

    /// Rows of a q/k-side tensor between the model's order and Hugging Face's (GGUF permutes q/k rows).
    func huggingFaceRowOrder(_ t: Tensor, role: LayerWeightRole, toModel: Bool) -> Tensor {
        guard config.ropeLayout == .interleaved, role == .q || role == .k else { return t }
        let heads = role == .q ? config.heads : config.kvHeads
        return toModel ? LlamaAdapter.interleaveRotaryRows(t, heads: heads, headDim: config.headDim)
                       : LlamaAdapter.halveRotaryRows(t, heads: heads, headDim: config.headDim)
    }
}

extension LlamaModel {
    /// This model with the (IA)³ adapter in `directory` folded into W_k, W_v (rows) and W_down (columns).
    func foldingIA3(_ directory: URL) throws -> LlamaModel {
        let file = try AdapterFolder.weights(directory, expecting: "IA3")
        let names = LlamaWeightNames.huggingFace
        var layers = weights.layers
        var found = 0
        for l in layers.indices {
            for role in IA3Target.roles {
                let key = "base_model.model." + names.layer(l, role).replacingOccurrences(of: ".weight", with: "") + ".ia3_l"
                guard file.info(key) != nil else { continue }
                let scale = try AdapterFolder.tensor(file, key).denseIfNeeded
                let w = try Self.dense(layers[l].matrix(role))                          // [out, in], the model's row order
                let (rows, cols) = (w.shape[0], w.shape[1])
                let inputSide = IA3Target.scalesInput(role)
                guard scale.count == (inputSide ? cols : rows) else {
                    throw GeneratorError.invalidWeights("\(directory.path): '\(key)' has \(scale.count) values, the weight is [\(rows), \(cols)]")
                }
                var s = try scale.reshape(inputSide ? [cols] : [rows, 1])
                if !inputSide, config.ropeLayout == .interleaved, role == .k {
                    s = LlamaAdapter.interleaveRotaryRows(s, heads: config.kvHeads, headDim: config.headDim)
                }
                let sv = s.denseIfNeeded
                for r in 0..<rows {
                    let row = w.data + r * cols
                    if inputSide { for c in 0..<cols { row[c] *= sv.data[c] } } else { for c in 0..<cols { row[c] *= sv.data[r] } }
                }
                w.storage.markModified()
                layers[l] = layers[l].replacing(role, with: .dense(w, name: names.layer(l, role)))
                found += 1
            }
        }
        guard found > 0 else { throw GeneratorError.invalidWeights("\(directory.path): no ia3_l vectors for this model") }
        return LlamaModel(base: self, weights: LlamaWeights(embedding: weights.embedding, layers: layers,
                                                                finalNorm: weights.finalNorm, output: weights.output),
                              virtualTokens: nil, adapterName: directory.lastPathComponent)
    }
}
