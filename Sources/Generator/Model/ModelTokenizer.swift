// The tokenizer and chat template that come with a checkpoint: from GGUF metadata
// (tokenizer.ggml.*, tokenizer.chat_template) or from a Hugging Face folder (tokenizer.json,
// tokenizer_config.json), and the ids that end a turn.

import Foundation
import Tensor
import Tokenizers

struct ModelTokenizer {
    let tokenizer: BPETokenizer
    let chatTemplate: ChatTemplate
    /// The template's Jinja source as the checkpoint carries it (nil: none, ChatML assumed).
    let chatTemplateSource: String?
    /// Generation stops at any of these (eos, ChatML's <|im_end|>, <|endoftext|>).
    let endOfTurnTokens: Set<Int>

    init(tokenizer: BPETokenizer, chatTemplateSource: String?, source: String) throws {
        self.tokenizer = tokenizer
        self.chatTemplateSource = chatTemplateSource
        do { chatTemplate = try ChatTemplate(jinjaSource: chatTemplateSource) } catch {
            throw GeneratorError.missingTokenizer("\(source): chat template not understood (\(error))")
        }
        var ends = Set<Int>()
        if let eos = tokenizer.special.eos { ends.insert(eos) }
        for name in ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>"] {
            if let id = tokenizer.id(of: name) { ends.insert(id) }
        }
        endOfTurnTokens = ends
    }

    /// From GGUF metadata (byte-level BPE: tokenizer.ggml.model = gpt2).
    init(gguf: GGUFFile) throws {
        let file = gguf.url.lastPathComponent
        guard let tokens = gguf.stringArray("tokenizer.ggml.tokens") else {
            throw GeneratorError.missingTokenizer("\(file) has no tokenizer.ggml.tokens")
        }
        let kind = gguf.string("tokenizer.ggml.model") ?? "?"
        guard kind == "gpt2" else {
            throw GeneratorError.missingTokenizer("\(file): tokenizer.ggml.model '\(kind)' is not supported (only byte-level BPE, 'gpt2')")
        }
        guard let merges = gguf.stringArray("tokenizer.ggml.merges") else {
            throw GeneratorError.missingTokenizer("\(file) has no tokenizer.ggml.merges")
        }
        let special = SpecialTokenIDs(bos: gguf.int("tokenizer.ggml.bos_token_id"), eos: gguf.int("tokenizer.ggml.eos_token_id"),
                                      unknown: gguf.int("tokenizer.ggml.unknown_token_id"),
                                      padding: gguf.int("tokenizer.ggml.padding_token_id"))
        let tokenizer: BPETokenizer
        do {
            let pre = try gguf.string("tokenizer.ggml.pre").map { try BPEPreTokenizer(ggmlPre: $0) } ?? .gpt2
            tokenizer = try BPETokenizer(tokens: tokens, merges: merges, tokenTypes: gguf.intArray("tokenizer.ggml.token_type"),
                                         specialTokenIDs: special, preTokenizer: pre,
                                         addBOS: gguf.bool("tokenizer.ggml.add_bos_token") ?? false)
        } catch {
            throw GeneratorError.missingTokenizer("\(file): \(error)")
        }
        try self.init(tokenizer: tokenizer, chatTemplateSource: gguf.string("tokenizer.chat_template"), source: file)
    }

    /// From tokenizer.json (+ chat_template and eos_token of tokenizer_config.json when present).
    init(huggingFaceFolder folder: URL) throws {
        let url = folder.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw GeneratorError.missingTokenizer("\(folder.path) has no tokenizer.json")
        }
        let tokenizer: BPETokenizer
        do { tokenizer = try BPETokenizer(tokenizerJSON: url) } catch { throw GeneratorError.missingTokenizer("\(error)") }
        var template: String?
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if let data = try? Data(contentsOf: configURL),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            template = json["chat_template"] as? String
        }
        try self.init(tokenizer: tokenizer, chatTemplateSource: template, source: folder.path)
    }
}

extension BPEStreamingDecoder: TokenStreamDecoding {}
