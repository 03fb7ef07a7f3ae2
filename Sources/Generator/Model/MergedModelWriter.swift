// A model with its LoRA adapter folded into the weights, written as a Hugging Face folder
// (`rag adapter merge`):
//   config.json            LlamaForCausalLM, the model's hyper-parameters
//   model.safetensors      every weight in F32, F16 or BF16, under Hugging Face's names
//   tokenizer.json         the tokenizer (from GGUF metadata or the folder it came from)
//   tokenizer_config.json  special tokens and chat template
// For each adapted projection W' [out, in] = W + scale · B [out, r] A [r, in]. GGUF blocks are
// decoded to floats, and q/k rows go back from GGUF's rotary order to Hugging Face's (the inverse
// of llama.cpp's permutation, as LlamaAdapter.halveRotaryRows does for B), so the folder loads
// in `rag` and in transformers as any Llama checkpoint does.

import Foundation
import Tensor

/// The float type of a merged model's weights (config.json's torch_dtype).
public enum MergedWeightType: String, CaseIterable, Sendable {
    case f32, f16, bf16

    var safeTensors: SafeTensorsDType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        }
    }

    var torchName: String {
        switch self {
        case .f32: return "float32"
        case .f16: return "float16"
        case .bf16: return "bfloat16"
        }
    }
}

extension LlamaModel {
    /// Writes this model (with its adapter merged, if it has one) to `folder`, which must not exist
    /// yet: the files are written into a temporary folder beside it that is renamed at the end, so a
    /// failed run leaves nothing half-written.
    public func writeMerged(to folder: URL, weightType: MergedWeightType = .f32) throws {
        let c = config
        guard c.rotaryDim == c.headDim else {
            throw GeneratorError.invalidConfig("\(url.lastPathComponent): RoPE rotates \(c.rotaryDim) of \(c.headDim) head components, which a Hugging Face Llama config cannot say")
        }
        guard virtualTokens == nil else {
            throw GeneratorError.invalidOptions("a prompt-tuning adapter adds virtual tokens, not weights: it cannot be merged into the model")
        }
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw GeneratorError.invalidOptions("\(folder.path) already exists; choose a new output folder")
        }
        let parent = folder.deletingLastPathComponent()
        let temp = parent.appendingPathComponent(".\(folder.lastPathComponent).\(UUID().uuidString).tmp", isDirectory: true)
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        do {
            try writeHuggingFaceFiles(try mergedTensors(), weightType: weightType, into: temp)
            try FileManager.default.moveItem(at: temp, to: folder)
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
    }

    /// config.json, model.safetensors (`tensors`, Hugging Face's names and row order),
    /// tokenizer.json and tokenizer_config.json of this model, written into `directory`.
    func writeHuggingFaceFiles(_ tensors: [(String, Tensor)], weightType: MergedWeightType, into directory: URL) throws {
        try SafeTensors.write(tensors, metadata: ["format": "pt"], dtype: weightType.safeTensors,
                              to: directory.appendingPathComponent("model.safetensors"))
        try huggingFaceConfig(weightType).write(to: directory.appendingPathComponent("config.json"))
        try tokenizer.tokenizerJSON().write(to: directory.appendingPathComponent("tokenizer.json"))
        try tokenizer.tokenizerConfigJSON(chatTemplate: chatTemplateSource, modelMaxLength: config.contextLength)
            .write(to: directory.appendingPathComponent("tokenizer_config.json"))
    }

    /// The weights under Hugging Face's names, each dense [rows, cols] (or [n] for the norms).
    private func mergedTensors() throws -> [(String, Tensor)] {
        let names = LlamaWeightNames.huggingFace
        var out: [(String, Tensor)] = [(names.embedding, try Self.dense(weights.embedding))]
        for (i, layer) in weights.layers.enumerated() {
            out.append((names.layer(i, .attentionNorm), layer.attentionNorm))
            for (role, w) in [(LayerWeightRole.q, layer.wq), (.k, layer.wk), (.v, layer.wv), (.o, layer.wo)] {
                out.append((names.layer(i, role), try merged(w, layer: i, role)))
            }
            out.append((names.layer(i, .mlpNorm), layer.mlpNorm))
            for (role, w) in [(LayerWeightRole.gate, layer.wGate), (.up, layer.wUp), (.down, layer.wDown)] {
                out.append((names.layer(i, role), try merged(w, layer: i, role)))
            }
        }
        out.append((names.finalNorm, weights.finalNorm))
        if !config.tiedEmbeddings { out.append((names.output, try Self.dense(weights.output))) }
        return out
    }

    /// W + scale · B A of one projection, in Hugging Face's row order.
    private func merged(_ weight: WeightMatrix, layer i: Int, _ role: LayerWeightRole) throws -> Tensor {
        let c = config
        var w = try Self.dense(weight)               // [out, in], the checkpoint's row order
        if let u = adapter?.layers[i][role] {        // B's rows are in the checkpoint's order too
            let rows = w.shape[0], cols = w.shape[1]
            // w[out, in] += scale · b[out, r] a[r, in]
            Threads.sgemm(transA: false, transB: false, m: rows, n: cols, k: u.rank, alpha: u.scale,
                          a: u.b.data, lda: u.rank, b: u.a.data, ldb: cols, beta: 1, c: w.data, ldc: cols)
        }
        if c.ropeLayout == .interleaved, role == .q || role == .k {
            w = LlamaAdapter.halveRotaryRows(w, heads: role == .q ? c.heads : c.kvHeads, headDim: c.headDim)
        }
        return w
    }

    /// A weight matrix as dense floats [rows, cols] (GGUF blocks decoded row by row).
    static func dense(_ m: WeightMatrix) throws -> Tensor {
        switch m {
        case .dense(let t, _):
            return t.denseCopy()
        case .quantized(let q):
            let t = Tensor(zeros: [q.rows, q.cols])
            for r in 0..<q.rows { try q.row(r, into: t.data + r * q.cols) }
            return t
        }
    }

    /// config.json as transformers writes it for LlamaForCausalLM.
    private func huggingFaceConfig(_ weightType: MergedWeightType) throws -> Data {
        let c = config
        /// Floats by their shortest decimal (1e-05, not 9.99999974737875e-06).
        func decimal(_ f: Float) -> Double { Double("\(f)") ?? Double(f) }
        var json: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "vocab_size": c.vocabSize, "hidden_size": c.dim, "intermediate_size": c.hiddenDim,
            "num_hidden_layers": c.layers, "num_attention_heads": c.heads, "num_key_value_heads": c.kvHeads,
            "head_dim": c.headDim, "hidden_act": "silu", "max_position_embeddings": c.contextLength,
            "rms_norm_eps": decimal(c.rmsNormEps), "rope_theta": decimal(c.ropeTheta), "rope_scaling": NSNull(),
            "tie_word_embeddings": c.tiedEmbeddings, "attention_bias": false, "mlp_bias": false,
            "torch_dtype": weightType.torchName,
        ]
        if let bos = tokenizer.special.bos { json["bos_token_id"] = bos }
        if let eos = tokenizer.special.eos { json["eos_token_id"] = eos }
        if let pad = tokenizer.special.padding { json["pad_token_id"] = pad }
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
    }
}
