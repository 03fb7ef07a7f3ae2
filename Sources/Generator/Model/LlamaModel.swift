// A loaded Llama-family decoder: configuration, read-only weights (shared by every DecodingSession),
// tokenizer and chat template. Loads a GGUF file or a Hugging Face folder (config.json +
// model.safetensors).

import Foundation
import Tensor
import Tokenizers

public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig
    public let tokenizer: BPETokenizer
    public let chatTemplate: ChatTemplate
    /// The chat template's Jinja source from the checkpoint (written out again by `writeMerged`).
    public let chatTemplateSource: String?
    /// Ids that end a turn (eos, <|im_end|>, ...): generation stops there.
    public let endOfTurnTokens: Set<Int>
    /// The GGUF file or folder it came from.
    public let url: URL
    let weights: LlamaWeights
    let rope: RopeTable
    /// A LoRA adapter applied beside the base weights, if this model was made by `adapted(by:)`.
    public let adapter: LlamaAdapter?
    /// The folder name of the adapter this model was made with (any kind), nil for a base model.
    public let adapterName: String?
    /// Prompt tuning's virtual tokens [N, C] (ids vocab…vocab+N−1), put before every prompt.
    let virtualTokens: Tensor?
    /// Direct views of the weights for decodeStep (which adds an adapter's low-rank updates too);
    /// nil when some matrix is neither Q8_0 nor Q4_1.
    let decodeMatrices: DecodeMatrices?

    init(config: LlamaConfig, weights: LlamaWeights, tokenizer: ModelTokenizer, url: URL) throws {
        guard tokenizer.tokenizer.vocabSize <= config.vocabSize else {
            throw GeneratorError.missingTokenizer("\(url.path): the tokenizer has \(tokenizer.tokenizer.vocabSize) tokens, the model \(config.vocabSize)")
        }
        self.config = config
        self.weights = weights
        self.tokenizer = tokenizer.tokenizer
        chatTemplate = tokenizer.chatTemplate
        chatTemplateSource = tokenizer.chatTemplateSource
        endOfTurnTokens = tokenizer.endOfTurnTokens
        self.url = url
        rope = RopeTable(theta: config.ropeTheta, rotaryDim: config.rotaryDim)
        adapter = nil
        adapterName = nil
        virtualTokens = nil
        decodeMatrices = DecodeMatrices(weights)
    }

    /// `base` with an adapter: a LoRA one beside its weights (shared, with their decode views), or
    /// another kind folded into `weights` / given as virtual tokens; named for the adapter's folder.
    init(base: LlamaModel, weights: LlamaWeights? = nil, adapter: LlamaAdapter? = nil, virtualTokens: Tensor? = nil,
         adapterName: String) {
        config = base.config
        self.weights = weights ?? base.weights
        tokenizer = base.tokenizer
        chatTemplate = base.chatTemplate
        chatTemplateSource = base.chatTemplateSource
        endOfTurnTokens = base.endOfTurnTokens
        url = base.url
        rope = base.rope
        self.adapter = adapter
        self.adapterName = adapterName
        self.virtualTokens = virtualTokens
        if let weights { decodeMatrices = DecodeMatrices(weights) } else { decodeMatrices = base.decodeMatrices }
    }

    /// This model with the adapter in `directory` (adapter_config.json + adapter_model.safetensors):
    /// LoRA applied beside the shared base weights; (IA)³ and BitFit folded into copies of the
    /// matrices and gains they change; prompt tuning's virtual tokens put before every prompt.
    public func adapted(by directory: URL) throws -> LlamaModel {
        guard adapterName == nil else { throw GeneratorError.invalidOptions("\(url.lastPathComponent) already has an adapter (\(adapterName ?? ""))") }
        switch try AdapterFolder.peftType(directory) {
        case "IA3": return try foldingIA3(directory)
        case "BITFIT": return try replacingNorms(directory)
        case "PROMPT_TUNING": return try withVirtualTokens(directory)
        default: break
        }
        let peft: PEFTAdapter
        do { peft = try PEFTAdapter(directory: directory) } catch let error as TensorError {
            throw GeneratorError.invalidWeights(error.description)
        }
        let adapter = try LlamaAdapter(peft, config: config)
        return LlamaModel(base: self, adapter: adapter, adapterName: adapter.name)
    }

    /// Chat messages encoded with the model's template, generation prompt appended: the template's
    /// markers are control tokens, the messages' text is text (ChatTemplate.encode).
    public func promptTokens(for messages: [ChatMessage]) throws -> [Int] {
        try chatTemplate.encode(messages, tokenizer: tokenizer, addGenerationPrompt: true).ids
    }

    /// Whether the weights are kept in quantized blocks (QLoRA trains over them).
    public var isQuantized: Bool {
        ([weights.embedding, weights.output] + weights.layers.flatMap { [$0.wq, $0.wk, $0.wv, $0.wo, $0.wGate, $0.wUp, $0.wDown] })
            .contains { !TrainableLlama.isLossless($0) }
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
        let tokenizer = try ModelTokenizer(gguf: file)
        let weights = try LlamaWeights(config: config, source: GGUFWeightSource(file: file), names: .gguf)
        return try LlamaModel(config: config, weights: weights, tokenizer: tokenizer, url: url)
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
        let tokenizer = try ModelTokenizer(huggingFaceFolder: folder)
        let weights = try LlamaWeights(config: config, source: source, names: .huggingFace)
        return try LlamaModel(config: config, weights: weights, tokenizer: tokenizer, url: folder)
    }
}
