// Full-parameter training (`rag finetune sft|dpo|rm|pretrain --full`): every weight of the model
// becomes a trainable F32 tensor, and the result is a whole model (a Hugging Face folder) instead
// of an adapter. Only models whose weights are stored without loss can be trained this way
// (Hugging Face F32/F16/BF16, GGUF F32/F16/BF16); a quantized GGUF trains a LoRA adapter over its
// blocks instead (QLoRA). The frozen originals stay beside the trained copies: they are the
// reference model of DPO (AdapterMode.reference / .off read them).

import Foundation
import Tensor

extension TrainableLlama {
    /// Every weight is trained (not a LoRA adapter).
    public var isFull: Bool { method == .full }

    /// Makes a trainable F32 copy of every weight: the embedding, each layer's norms and projections,
    /// the final norm, and the output head (the embedding itself when they are tied).
    public func makeFullyTrainable() throws {
        guard lora == nil, method == .lora else { throw GeneratorError.invalidOptions("the model already has an adapter; full training replaces it") }
        let w = model.weights
        let matrices = [w.embedding, w.output] + w.layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] }
        if let lossy = matrices.first(where: { !Self.isLossless($0) }) {
            throw GeneratorError.invalidOptions("\(model.url.lastPathComponent): '\(lossy.name)' is quantized; full-parameter training needs F32/F16/BF16 weights (a Hugging Face folder, or an F32/F16 GGUF). Train a LoRA adapter over it instead (without --full: QLoRA)")
        }
        func trainable(_ t: Tensor) -> Tensor {
            let copy = t.denseCopy()
            copy.requiresGrad = true
            return copy
        }
        let table = trainable(try LlamaModel.dense(w.embedding))
        embeddingTable = table
        headTable = config.tiedEmbeddings ? table : trainable(try LlamaModel.dense(w.output))
        for (l, layer) in layers.enumerated() {
            layer.trainedAttentionNorm = trainable(layer.attentionNorm)
            layer.trainedMLPNorm = trainable(layer.mlpNorm)
            let source = w.layers[l]
            let weights: [LayerWeightRole: WeightMatrix] = [.q: source.wq, .k: source.wk, .v: source.wv, .o: source.wo,
                                                            .gate: source.wGate, .up: source.wUp, .down: source.wDown]
            for p in layer.projections {
                guard let m = weights[p.role] else { continue }
                p.full = trainable(try LlamaModel.dense(m))                         // [out, in], the checkpoint's row order
            }
        }
        trainedFinalNorm = trainable(finalNorm)
        method = .full
    }

    static func isLossless(_ m: WeightMatrix) -> Bool {
        switch m {
        case .dense: return true
        case .quantized(let q): return q.type == .f32 || q.type == .f16 || q.type == .bf16
        }
    }

    /// The trained weights under Hugging Face's names, in the model's own row order (GGUF's
    /// rotary order for q/k when it came from GGUF): the names of the optimizer state too.
    var fullParameters: [(String, Tensor)] {
        guard let table = embeddingTable else { return [] }
        let names = LlamaWeightNames.huggingFace
        var out: [(String, Tensor)] = [(names.embedding, table)]
        for (l, layer) in layers.enumerated() {
            if let n = layer.trainedAttentionNorm { out.append((names.layer(l, .attentionNorm), n)) }
            for p in [layer.q, layer.k, layer.v, layer.o] { if let f = p.full { out.append((names.layer(l, p.role), f)) } }
            if let n = layer.trainedMLPNorm { out.append((names.layer(l, .mlpNorm), n)) }
            for p in [layer.gate, layer.up, layer.down] { if let f = p.full { out.append((names.layer(l, p.role), f)) } }
        }
        if let n = trainedFinalNorm { out.append((names.finalNorm, n)) }
        if !config.tiedEmbeddings, let head = headTable { out.append((names.output, head)) }
        return out
    }

    /// A q/k matrix between the model's row order and Hugging Face's (identity for other roles
    /// and for models that came from Hugging Face).
    private func huggingFaceRows(_ t: Tensor, name: String, toModel: Bool) -> Tensor {
        guard config.ropeLayout == .interleaved else { return t }
        let isQ = name.hasSuffix("q_proj.weight"), isK = name.hasSuffix("k_proj.weight")
        guard isQ || isK else { return t }
        let heads = isQ ? config.heads : config.kvHeads
        return toModel ? LlamaAdapter.interleaveRotaryRows(t, heads: heads, headDim: config.headDim)
                       : LlamaAdapter.halveRotaryRows(t, heads: heads, headDim: config.headDim)
    }

    /// Writes the trained model as a Hugging Face folder's files into `directory` (config.json,
    /// model.safetensors in F32, tokenizer.json, tokenizer_config.json): `rag --model DIR` and
    /// transformers load it.
    func saveFullModel(to directory: URL) throws {
        let tensors = fullParameters.map { ($0.0, huggingFaceRows($0.1.denseIfNeeded, name: $0.0, toModel: false)) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try model.writeHuggingFaceFiles(tensors, weightType: .f32, into: directory)
    }

    /// Loads the weights of a full-training checkpoint (its model.safetensors) into the trained copies.
    func restoreFullWeights(from directory: URL) throws {
        let url = directory.appendingPathComponent("model.safetensors")
        do {
            let file = try SafeTensorsFile(url: url)
            for (name, p) in fullParameters {
                guard file.info(name) != nil else { throw TensorError.checkpoint("no '\(name)'") }
                let t = huggingFaceRows(try file.tensor(name), name: name, toModel: true)
                guard t.shape == p.shape else { throw TensorError.checkpoint("'\(name)' is \(t.shape), this model has \(p.shape)") }
                p.assignValues(t)
            }
        } catch let error as TensorError {
            throw TrainingError.checkpoint("\(url.path): \(error.description)")
        }
    }

    /// What a run leaves in its output folder (and each checkpoint): the adapter of its kind, or the
    /// whole model (and a reward model's head).
    func saveTrained(to directory: URL, baseModelName: String) throws {
        switch method {
        case .lora, .qlora: try saveAdapter(to: directory, baseModelName: baseModelName)   // (with the head)
        case .full: try saveFullModel(to: directory)
        case .ia3: try saveIA3(to: directory, baseModelName: baseModelName)
        case .bitfit: try saveBitFit(to: directory, baseModelName: baseModelName)
        case .prompt: try savePromptTuning(to: directory, baseModelName: baseModelName)
        }
        if method != .lora && method != .qlora { try saveValueHead(to: directory) }
    }

    /// Overwrites the trained values with a checkpoint's (resuming this same run).
    func restoreTrained(from directory: URL) throws {
        switch method {
        case .lora, .qlora: try restoreLoRAWeights(from: directory)   // (and a reward model's head)
        case .full: try restoreFullWeights(from: directory)
        case .ia3: try loadIA3(from: directory, asStart: false)
        case .bitfit: try loadBitFit(from: directory, asStart: false)
        case .prompt: try loadPromptTuning(from: directory, asStart: false)
        }
        if method != .lora && method != .qlora, valueHead != nil { try loadValueHead(from: directory) }
    }

    /// An adapter to start training from, of whatever kind its folder says (the reference keeps it frozen).
    public func startFrom(adapter directory: URL, dropout: Float, seed: UInt64) throws {
        switch try AdapterFolder.peftType(directory) {
        case "LORA": try loadLoRA(from: directory, dropout: dropout, seed: seed)
        case "IA3": try loadIA3(from: directory, asStart: true)
        case "BITFIT": try loadBitFit(from: directory, asStart: true)
        case "PROMPT_TUNING": try loadPromptTuning(from: directory, asStart: true)
        case let other: throw GeneratorError.invalidWeights("\(directory.path): peft_type \(other) is not supported (LORA, IA3, PROMPT_TUNING, BITFIT are)")
        }
    }
}
