// The parameters of a Llama decoder, under the checkpoint's own names:
//   GGUF (llama.cpp)               Hugging Face (safetensors)                     shape
//   token_embd.weight              model.embed_tokens.weight                      [vocab, dim]
//   blk.N.attn_norm.weight         model.layers.N.input_layernorm.weight          [dim]
//   blk.N.attn_q.weight            model.layers.N.self_attn.q_proj.weight         [heads·hd, dim]
//   blk.N.attn_k.weight / attn_v   ...self_attn.k_proj.weight / v_proj            [kvHeads·hd, dim]
//   blk.N.attn_output.weight       ...self_attn.o_proj.weight                     [dim, heads·hd]
//   blk.N.ffn_norm.weight          model.layers.N.post_attention_layernorm.weight [dim]
//   blk.N.ffn_gate / ffn_up        ...mlp.gate_proj.weight / up_proj              [hidden, dim]
//   blk.N.ffn_down.weight          ...mlp.down_proj.weight                        [dim, hidden]
//   output_norm.weight             model.norm.weight                              [dim]
//   output.weight (or tied)        lm_head.weight (or tied)                       [vocab, dim]

import Tensor

struct LlamaLayerWeights: @unchecked Sendable {
    let attentionNorm: Tensor  // [dim]
    let wq: WeightMatrix       // [heads·hd, dim]
    let wk: WeightMatrix       // [kvHeads·hd, dim]
    let wv: WeightMatrix       // [kvHeads·hd, dim]
    let wo: WeightMatrix       // [dim, heads·hd]
    let mlpNorm: Tensor        // [dim]
    let wGate: WeightMatrix    // [hidden, dim]
    let wUp: WeightMatrix      // [hidden, dim]
    let wDown: WeightMatrix    // [dim, hidden]
}

struct LlamaWeights: @unchecked Sendable {
    let embedding: WeightMatrix  // [vocab, dim]
    let layers: [LlamaLayerWeights]
    let finalNorm: Tensor        // [dim]
    let output: WeightMatrix     // [vocab, dim] (the embedding when tied)
}

/// Where weights come from: names differ, shapes are checked the same way.
protocol WeightSource {
    var fileName: String { get }
    func hasTensor(_ name: String) -> Bool
    /// A matrix of the expected [rows, cols].
    func matrix(_ name: String) throws -> WeightMatrix
    /// A dense vector (norm weights).
    func vector(_ name: String) throws -> Tensor
}

extension LlamaWeights {
    /// Reads every parameter, checking shapes against `config`. `names` maps the Hugging Face
    /// role of a weight to the checkpoint's key.
    init(config c: LlamaConfig, source: some WeightSource, names: LlamaWeightNames) throws {
        func matrix(_ name: String, _ rows: Int, _ cols: Int) throws -> WeightMatrix {
            let m = try source.matrix(name)
            guard m.rows == rows, m.cols == cols else {
                throw GeneratorError.invalidWeights("\(source.fileName): '\(name)' is [\(m.rows), \(m.cols)], expected [\(rows), \(cols)]")
            }
            return m
        }
        func vector(_ name: String, _ count: Int) throws -> Tensor {
            let v = try source.vector(name)
            guard v.count == count, v.isContiguous else {
                throw GeneratorError.invalidWeights("\(source.fileName): '\(name)' has shape \(v.shape), expected [\(count)]")
            }
            return v
        }
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        embedding = try matrix(names.embedding, c.vocabSize, c.dim)
        layers = try (0..<c.layers).map { i in
            LlamaLayerWeights(
                attentionNorm: try vector(names.layer(i, .attentionNorm), c.dim),
                wq: try matrix(names.layer(i, .q), qDim, c.dim),
                wk: try matrix(names.layer(i, .k), kvDim, c.dim),
                wv: try matrix(names.layer(i, .v), kvDim, c.dim),
                wo: try matrix(names.layer(i, .o), c.dim, qDim),
                mlpNorm: try vector(names.layer(i, .mlpNorm), c.dim),
                wGate: try matrix(names.layer(i, .gate), c.hiddenDim, c.dim),
                wUp: try matrix(names.layer(i, .up), c.hiddenDim, c.dim),
                wDown: try matrix(names.layer(i, .down), c.dim, c.hiddenDim))
        }
        finalNorm = try vector(names.finalNorm, c.dim)
        output = c.tiedEmbeddings ? embedding : try matrix(names.output, c.vocabSize, c.dim)
    }
}

enum LayerWeightRole: CaseIterable {
    case attentionNorm, q, k, v, o, mlpNorm, gate, up, down

    /// Key of layer `i`'s weight in GGUF and in Hugging Face checkpoints.
    func key(layer i: Int, gguf: Bool) -> String {
        let (g, hf): (String, String)
        switch self {
        case .attentionNorm: (g, hf) = ("attn_norm", "input_layernorm")
        case .q: (g, hf) = ("attn_q", "self_attn.q_proj")
        case .k: (g, hf) = ("attn_k", "self_attn.k_proj")
        case .v: (g, hf) = ("attn_v", "self_attn.v_proj")
        case .o: (g, hf) = ("attn_output", "self_attn.o_proj")
        case .mlpNorm: (g, hf) = ("ffn_norm", "post_attention_layernorm")
        case .gate: (g, hf) = ("ffn_gate", "mlp.gate_proj")
        case .up: (g, hf) = ("ffn_up", "mlp.up_proj")
        case .down: (g, hf) = ("ffn_down", "mlp.down_proj")
        }
        return gguf ? "blk.\(i).\(g).weight" : "model.layers.\(i).\(hf).weight"
    }
}

/// Checkpoint keys of each parameter.
struct LlamaWeightNames: Sendable {
    let embedding: String
    let finalNorm: String
    let output: String
    let isGGUF: Bool

    func layer(_ i: Int, _ role: LayerWeightRole) -> String { role.key(layer: i, gguf: isGGUF) }

    static let gguf = LlamaWeightNames(embedding: "token_embd.weight", finalNorm: "output_norm.weight",
                                       output: "output.weight", isGGUF: true)
    static let huggingFace = LlamaWeightNames(embedding: "model.embed_tokens.weight", finalNorm: "model.norm.weight",
                                              output: "lm_head.weight", isGGUF: false)
}

// MARK: - sources

struct GGUFWeightSource: WeightSource {
    let file: GGUFFile
    var fileName: String { file.url.lastPathComponent }

    func hasTensor(_ name: String) -> Bool { file.info(name) != nil }

    func matrix(_ name: String) throws -> WeightMatrix {
        guard let info = file.info(name) else { throw GeneratorError.invalidWeights("\(fileName): no tensor '\(name)'") }
        guard info.dimensions.count == 2 else {
            throw GeneratorError.invalidWeights("\(fileName): '\(name)' has shape \(info.shape), expected a matrix")
        }
        do { return .quantized(try file.matrix(name)) } catch let error as TensorError {
            throw GeneratorError.invalidWeights(error.description)
        }
    }

    func vector(_ name: String) throws -> Tensor {
        guard file.info(name) != nil else { throw GeneratorError.invalidWeights("\(fileName): no tensor '\(name)'") }
        do { return try file.tensor(name) } catch let error as TensorError { throw GeneratorError.invalidWeights(error.description) }
    }
}

struct SafeTensorsWeightSource: WeightSource {
    let file: SafeTensorsFile
    var fileName: String { file.url.lastPathComponent }

    func hasTensor(_ name: String) -> Bool { file.info(name) != nil }

    func matrix(_ name: String) throws -> WeightMatrix {
        let t = try vector(name)
        guard t.rank == 2 else { throw GeneratorError.invalidWeights("\(fileName): '\(name)' has shape \(t.shape), expected a matrix") }
        return .dense(t, name: name)
    }

    func vector(_ name: String) throws -> Tensor {
        guard file.info(name) != nil else { throw GeneratorError.invalidWeights("\(fileName): no tensor '\(name)'") }
        do { return try file.tensor(name) } catch let error as TensorError { throw GeneratorError.invalidWeights(error.description) }
    }
}
