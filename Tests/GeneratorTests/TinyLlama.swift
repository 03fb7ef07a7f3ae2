// A tiny random Llama (2 layers, dim 32, 4 heads over 2 kv heads) written as a GGUF file (llama.cpp
// names, Q/K rows permuted as llama.cpp's converter does) and as a Hugging Face folder
// (config.json + model.safetensors), plus a plain reference forward pass written from the paper
// with no shared code, to check the model's kernels against.

import Foundation
import SeededRandom
@testable import Generator
import Tensor

struct TinyLlama {
    static let vocab = 259, dim = 32, hidden = 64, layers = 2, heads = 4, kvHeads = 2, headDim = 8
    static let contextLength = 64, theta: Float = 10000, eps: Float = 1e-5

    /// Hugging Face name -> (row-major shape, values).
    var tensors: [String: ([Int], [Float])] = [:]
    let separateHead: Bool

    init(seed: UInt64, separateHead: Bool = false) {
        self.separateHead = separateHead
        var random = SplitMix64(seed: seed)
        func uniform(_ shape: [Int], scale: Float) -> ([Int], [Float]) {
            (shape, (0..<shape.reduce(1, *)).map { _ in Float(random.nextUnit() * 2 - 1) * scale })
        }
        func norm(_ n: Int) -> ([Int], [Float]) { (uniform([n], scale: 0.2).0, uniform([n], scale: 0.2).1.map { 1 + $0 }) }
        let d = Self.dim, q = Self.heads * Self.headDim, kv = Self.kvHeads * Self.headDim
        tensors["model.embed_tokens.weight"] = uniform([Self.vocab, d], scale: 1)
        for l in 0..<Self.layers {
            let p = "model.layers.\(l)."
            tensors[p + "input_layernorm.weight"] = norm(d)
            tensors[p + "self_attn.q_proj.weight"] = uniform([q, d], scale: 0.5)
            tensors[p + "self_attn.k_proj.weight"] = uniform([kv, d], scale: 0.5)
            tensors[p + "self_attn.v_proj.weight"] = uniform([kv, d], scale: 0.3)
            tensors[p + "self_attn.o_proj.weight"] = uniform([d, q], scale: 0.3)
            tensors[p + "post_attention_layernorm.weight"] = norm(d)
            tensors[p + "mlp.gate_proj.weight"] = uniform([Self.hidden, d], scale: 0.3)
            tensors[p + "mlp.up_proj.weight"] = uniform([Self.hidden, d], scale: 0.3)
            tensors[p + "mlp.down_proj.weight"] = uniform([d, Self.hidden], scale: 0.2)
        }
        tensors["model.norm.weight"] = norm(d)
        if separateHead { tensors["lm_head.weight"] = uniform([Self.vocab, d], scale: 0.5) }
    }

    // MARK: - files

    func writeHuggingFace(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config: [String: Any] = [
            "model_type": "llama", "vocab_size": Self.vocab, "hidden_size": Self.dim, "intermediate_size": Self.hidden,
            "num_hidden_layers": Self.layers, "num_attention_heads": Self.heads, "num_key_value_heads": Self.kvHeads,
            "rope_theta": Self.theta, "rms_norm_eps": Self.eps, "max_position_embeddings": Self.contextLength,
            "tie_word_embeddings": !separateHead,
        ]
        try JSONSerialization.data(withJSONObject: config).write(to: folder.appendingPathComponent("config.json"))
        let list = try tensors.sorted { $0.key < $1.key }.map { ($0.key, try Tensor($0.value.1, shape: $0.value.0)) }
        try SafeTensors.write(list, to: folder.appendingPathComponent("model.safetensors"))
        try TinyTokenizer.tokenizerJSON().write(to: folder.appendingPathComponent("tokenizer.json"))
    }

    /// The same weights under llama.cpp names, matrices stored F32 or encoded as `matrices` says
    /// (ggml type id and encoder). For broken files: another `architecture`, no tokenizer, or the
    /// tensor `replacing` left out (nil) or stored as zero blocks of another ggml type.
    func gguf(architecture: String = "llama", withTokenizer: Bool = true,
              replacing: String? = nil, with replacement: (type: UInt32, blockBytes: Int)? = nil,
              matrices: (type: UInt32, encode: ([Float]) -> [UInt8])? = nil) -> TinyGGUFWriter {
        var w = TinyGGUFWriter()
        w.set("general.architecture", .string(architecture))
        w.set("llama.block_count", .uint32(UInt32(Self.layers)))
        w.set("llama.context_length", .uint32(UInt32(Self.contextLength)))
        w.set("llama.embedding_length", .uint32(UInt32(Self.dim)))
        w.set("llama.feed_forward_length", .uint32(UInt32(Self.hidden)))
        w.set("llama.attention.head_count", .uint32(UInt32(Self.heads)))
        w.set("llama.attention.head_count_kv", .uint32(UInt32(Self.kvHeads)))
        w.set("llama.rope.freq_base", .float32(Self.theta))
        w.set("llama.attention.layer_norm_rms_epsilon", .float32(Self.eps))
        if withTokenizer { TinyTokenizer.addGGUFMetadata(to: &w) }
        func add(_ gguf: String, _ hf: String, permuteHeads: Int? = nil) {
            guard let (shape, values) = tensors[hf] else { return }
            if gguf == replacing {
                if let r = replacement {
                    w.addRaw(gguf, shape: shape, type: r.type, bytes: [UInt8](repeating: 0, count: shape.reduce(1, *) / 32 * r.blockBytes))
                }
                return
            }
            let stored = permuteHeads.map { Self.permuteForGGUF(values, shape: shape, heads: $0) } ?? values
            if let matrices, shape.count == 2 {
                w.addRaw(gguf, shape: shape, type: matrices.type, bytes: matrices.encode(stored))
            } else {
                w.add(gguf, shape: shape, values: stored)
            }
        }
        add("token_embd.weight", "model.embed_tokens.weight")
        for l in 0..<Self.layers {
            let p = "model.layers.\(l).", b = "blk.\(l)."
            add(b + "attn_norm.weight", p + "input_layernorm.weight")
            add(b + "attn_q.weight", p + "self_attn.q_proj.weight", permuteHeads: Self.heads)
            add(b + "attn_k.weight", p + "self_attn.k_proj.weight", permuteHeads: Self.kvHeads)
            add(b + "attn_v.weight", p + "self_attn.v_proj.weight")
            add(b + "attn_output.weight", p + "self_attn.o_proj.weight")
            add(b + "ffn_norm.weight", p + "post_attention_layernorm.weight")
            add(b + "ffn_gate.weight", p + "mlp.gate_proj.weight")
            add(b + "ffn_up.weight", p + "mlp.up_proj.weight")
            add(b + "ffn_down.weight", p + "mlp.down_proj.weight")
        }
        add("output_norm.weight", "model.norm.weight")
        add("output.weight", "lm_head.weight")
        return w
    }

    /// llama.cpp's converter: within each head, row j·(hd/2) + i of HF goes to row 2i + j.
    static func permuteForGGUF(_ values: [Float], shape: [Int], heads: Int) -> [Float] {
        let cols = shape[1], hd = shape[0] / heads
        var out = values
        for h in 0..<heads {
            for i in 0..<hd / 2 {
                for j in 0..<2 {
                    let src = (h * hd + j * hd / 2 + i) * cols, dst = (h * hd + 2 * i + j) * cols
                    for c in 0..<cols { out[dst + c] = values[src + c] }
                }
            }
        }
        return out
    }

    // MARK: - reference forward (Hugging Face convention, plain arrays, Double accumulation)

    func referenceLogits(_ tokens: [Int]) -> [[Float]] { referenceForward(tokens).logits }

    /// Logits at every position, and the last position's hidden states as transformers reports them
    /// (`hidden_states`: the embeddings, after each block, the last after the final norm).
    func referenceForward(_ tokens: [Int]) -> (logits: [[Float]], lastHidden: [[Float]]) {
        let d = Self.dim, hd = Self.headDim, group = Self.heads / Self.kvHeads
        func w(_ name: String) -> [Float] { tensors[name]?.1 ?? [] }
        func linear(_ x: [Float], _ name: String) -> [Float] {
            let (shape, m) = tensors[name] ?? ([0, 0], [])
            return (0..<shape[0]).map { r in Float((0..<shape[1]).reduce(0.0) { $0 + Double(m[r * shape[1] + $1]) * Double(x[$1]) }) }
        }
        func rmsNorm(_ x: [Float], _ name: String) -> [Float] {
            let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(x.count)
            let s = Float(1 / (ms + Double(Self.eps)).squareRoot())
            return zip(x, w(name)).map { $0 * s * $1 }
        }
        func rope(_ v: [Float], position: Int, heads: Int) -> [Float] {  // rotate_half
            var out = v
            for h in 0..<heads {
                for i in 0..<hd / 2 {
                    let angle = Double(position) * pow(Double(Self.theta), -Double(2 * i) / Double(hd))
                    let a = v[h * hd + i], b = v[h * hd + i + hd / 2]
                    out[h * hd + i] = Float(Double(a) * cos(angle) - Double(b) * sin(angle))
                    out[h * hd + i + hd / 2] = Float(Double(b) * cos(angle) + Double(a) * sin(angle))
                }
            }
            return out
        }
        let embed = w("model.embed_tokens.weight")
        var xs = tokens.map { Array(embed[($0 * d)..<(($0 + 1) * d)]) }
        var lastHidden = [xs[xs.count - 1]]
        for l in 0..<Self.layers {
            let p = "model.layers.\(l)."
            let hs = xs.map { rmsNorm($0, p + "input_layernorm.weight") }
            let qs = hs.enumerated().map { rope(linear($1, p + "self_attn.q_proj.weight"), position: $0, heads: Self.heads) }
            let ks = hs.enumerated().map { rope(linear($1, p + "self_attn.k_proj.weight"), position: $0, heads: Self.kvHeads) }
            let vs = hs.map { linear($0, p + "self_attn.v_proj.weight") }
            for t in 0..<tokens.count {
                var attended = [Float](repeating: 0, count: Self.heads * hd)
                for h in 0..<Self.heads {
                    let g = h / group
                    let scores = (0...t).map { s in
                        (0..<hd).reduce(0.0) { $0 + Double(qs[t][h * hd + $1]) * Double(ks[s][g * hd + $1]) } / Double(hd).squareRoot()
                    }
                    let m = scores.max() ?? 0
                    let e = scores.map { exp($0 - m) }
                    let z = e.reduce(0, +)
                    for i in 0..<hd {
                        attended[h * hd + i] = Float((0...t).reduce(0.0) { $0 + e[$1] / z * Double(vs[$1][g * hd + i]) })
                    }
                }
                let o = linear(attended, p + "self_attn.o_proj.weight")
                xs[t] = zip(xs[t], o).map(+)
                let h2 = rmsNorm(xs[t], p + "post_attention_layernorm.weight")
                let gate = linear(h2, p + "mlp.gate_proj.weight"), up = linear(h2, p + "mlp.up_proj.weight")
                let act = zip(gate, up).map { g, u in g / (1 + exp(-g)) * u }
                xs[t] = zip(xs[t], linear(act, p + "mlp.down_proj.weight")).map(+)
            }
            lastHidden.append(xs[xs.count - 1])
        }
        lastHidden[Self.layers] = rmsNorm(xs[xs.count - 1], "model.norm.weight")
        let head = separateHead ? "lm_head.weight" : "model.embed_tokens.weight"
        return (xs.map { linear(rmsNorm($0, "model.norm.weight"), head) }, lastHidden)
    }
}

/// A byte-level vocabulary: the 256 byte tokens of GPT-2's alphabet and three control tokens.
enum TinyTokenizer {
    static let specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    /// GPT-2's byte -> printable character map.
    static var byteTokens: [String] {
        var printable = Array(33...126) + Array(161...172) + Array(174...255)
        var chars = printable
        var extra = 0
        for b in 0..<256 where !printable.contains(b) {
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
        }
        var tokens = [String](repeating: "", count: 256)
        for (b, c) in zip(printable, chars) { tokens[b] = Unicode.Scalar(UInt32(c)).map { String(Character($0)) } ?? "?" }
        return tokens
    }

    static var tokens: [String] { byteTokens + specials }

    static func addGGUFMetadata(to w: inout TinyGGUFWriter) {
        w.set("tokenizer.ggml.model", .string("gpt2"))
        w.set("tokenizer.ggml.pre", .string("smollm"))
        w.set("tokenizer.ggml.tokens", .strings(tokens))
        w.set("tokenizer.ggml.token_type", .int32s([Int32](repeating: 1, count: 256) + [3, 3, 3]))
        w.set("tokenizer.ggml.merges", .strings([]))
        w.set("tokenizer.ggml.bos_token_id", .uint32(256))
        w.set("tokenizer.ggml.eos_token_id", .uint32(258))
        w.set("tokenizer.chat_template", .string("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"))
    }

    static func tokenizerJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        for (i, t) in tokens.enumerated() { vocab[t] = i }
        let added = specials.enumerated().map { i, s in
            ["id": 256 + i, "content": s, "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false] as [String: Any]
        }
        let json: [String: Any] = [
            "added_tokens": added,
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "decoder": ["type": "ByteLevel"],
            "model": ["type": "BPE", "vocab": vocab, "merges": [String]()],
        ]
        return try JSONSerialization.data(withJSONObject: json)
    }
}

extension TinyLlama {
    /// The tiny model of `seed` written as GGUF into `folder` and loaded.
    static func loadGGUF(seed: UInt64, in folder: URL) throws -> LlamaModel {
        let url = folder.appendingPathComponent("tiny-\(seed).gguf")
        try TinyLlama(seed: seed).gguf().write(to: url)
        return try LlamaModel.load(from: url)
    }
}
