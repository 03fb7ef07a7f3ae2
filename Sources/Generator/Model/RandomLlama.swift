// A new Llama with random weights, for pretraining from scratch (`rag finetune pretrain --config`):
// the user's config (Hugging Face LlamaConfig keys) completed with the tokenizer's vocabulary size,
// weights drawn as transformers initialises them (matrices N(0, 0.02²), norms 1), written as a
// Hugging Face folder and loaded back through the same loader as any model.

import Foundation
import Tensor
import Tokenizers

extension LlamaModel {
    /// The model of `configFile` with `tokenizerFile`'s vocabulary, random (seeded), written into
    /// `folder` (created; config.json, model.safetensors, tokenizer.json, tokenizer_config.json).
    public static func createRandom(configFile: URL, tokenizerFile: URL, seed: UInt64, in folder: URL) throws -> LlamaModel {
        let configData: Data
        do { configData = try Data(contentsOf: configFile) } catch {
            throw GeneratorError.invalidConfig("\(configFile.path): cannot read (\(error.localizedDescription))")
        }
        guard var json = (try? JSONSerialization.jsonObject(with: configData)) as? [String: Any] else {
            throw GeneratorError.invalidConfig("\(configFile.path): not a JSON object")
        }
        let tokenizer: BPETokenizer
        do { tokenizer = try BPETokenizer(tokenizerJSON: tokenizerFile) } catch { throw GeneratorError.missingTokenizer("\(error)") }
        if let v = json["vocab_size"] as? Int, v != tokenizer.vocabSize {
            throw GeneratorError.invalidConfig("\(configFile.path): vocab_size \(v), but \(tokenizerFile.lastPathComponent) has \(tokenizer.vocabSize) tokens")
        }
        json["vocab_size"] = tokenizer.vocabSize
        json["model_type"] = json["model_type"] ?? "llama"
        json["architectures"] = json["architectures"] ?? ["LlamaForCausalLM"]
        json["tie_word_embeddings"] = json["tie_word_embeddings"] ?? true
        if let eos = tokenizer.special.eos { json["eos_token_id"] = json["eos_token_id"] ?? eos }

        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let configURL = folder.appendingPathComponent("config.json")
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]).write(to: configURL)
        let c = try LlamaConfig(configJSON: configURL)

        var rng = TensorRNG(seed: seed)
        func matrix(_ rows: Int, _ cols: Int) -> Tensor { Tensor.randn([rows, cols], std: 0.02, rng: &rng) }
        func ones(_ n: Int) -> Tensor { Tensor(repeating: 1, shape: [n]) }
        let names = LlamaWeightNames.huggingFace
        let q = c.heads * c.headDim, kv = c.kvHeads * c.headDim
        var tensors: [(String, Tensor)] = [(names.embedding, matrix(c.vocabSize, c.dim))]
        for l in 0..<c.layers {
            tensors += [(names.layer(l, .attentionNorm), ones(c.dim)),
                        (names.layer(l, .q), matrix(q, c.dim)), (names.layer(l, .k), matrix(kv, c.dim)),
                        (names.layer(l, .v), matrix(kv, c.dim)), (names.layer(l, .o), matrix(c.dim, q)),
                        (names.layer(l, .mlpNorm), ones(c.dim)),
                        (names.layer(l, .gate), matrix(c.hiddenDim, c.dim)), (names.layer(l, .up), matrix(c.hiddenDim, c.dim)),
                        (names.layer(l, .down), matrix(c.dim, c.hiddenDim))]
        }
        tensors.append((names.finalNorm, ones(c.dim)))
        if !c.tiedEmbeddings { tensors.append((names.output, matrix(c.vocabSize, c.dim))) }
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: folder.appendingPathComponent("model.safetensors"))
        try tokenizer.tokenizerJSON().write(to: folder.appendingPathComponent("tokenizer.json"))
        // A ChatML template when the vocabulary has its markers, so that the new model can be chatted with after SFT.
        let chatML = tokenizer.id(of: "<|im_start|>") != nil && tokenizer.id(of: "<|im_end|>") != nil
        let template = chatML ? "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}" : nil
        try tokenizer.tokenizerConfigJSON(chatTemplate: template, modelMaxLength: c.contextLength)
            .write(to: folder.appendingPathComponent("tokenizer_config.json"))
        return try LlamaModel.load(from: folder)
    }
}
