import Foundation

// Writing a byte-level BPE tokenizer as Hugging Face does: tokenizer.json (model, added tokens,
// pre-tokenizer, post-processor, decoder) and the tokenizer_config.json beside it (special tokens'
// names, chat template). What `BPETokenizer(tokenizerJSON:)` and HF `tokenizers` read back with the
// same ids; used when a GGUF model is written out as a Hugging Face folder (`rag adapter merge`).

extension BPETokenizer {
    /// tokenizer.json of this tokenizer.
    public func tokenizerJSON() throws -> Data {
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where !token.isEmpty && vocab[token] == nil { vocab[token] = id }
        let merges = self.merges.rankedPairs.map { "\(tokens[Int($0.0)]) \(tokens[Int($0.1)])" }
        let added: [[String: Any]] = addedTokens.sorted { $0.id < $1.id }.map {
            ["id": $0.id, "content": $0.content, "single_word": false, "lstrip": false, "rstrip": false,
             "normalized": !$0.special, "special": $0.special]
        }
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let preTokenizer: [String: Any] = preTokenizer.splitDigitsIndividually
            ? ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true], byteLevel]]
            : byteLevel
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(), "normalizer": NSNull(),
            "added_tokens": added,
            "pre_tokenizer": preTokenizer,
            "post_processor": try postProcessor(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": NSNull(),
                      "end_of_word_suffix": NSNull(), "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
                      "vocab": vocab, "merges": merges],
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys])
    }

    /// tokenizer_config.json: the special tokens by name and the chat template (Jinja source).
    public func tokenizerConfigJSON(chatTemplate: String?, modelMaxLength: Int) throws -> Data {
        var config: [String: Any] = ["tokenizer_class": "GPT2Tokenizer", "add_bos_token": addBOS, "add_prefix_space": false,
                                     "clean_up_tokenization_spaces": false, "model_max_length": modelMaxLength]
        for (key, id) in [("bos_token", special.bos), ("eos_token", special.eos), ("unk_token", special.unknown),
                          ("pad_token", special.padding)] {
            if let id, id >= 0, id < tokens.count { config[key] = tokens[id] }
        }
        if let chatTemplate { config["chat_template"] = chatTemplate }
        return try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    }

    /// BOS before every sequence when the tokenizer adds one (TemplateProcessing, as Llama 3's
    /// tokenizer.json has it); otherwise the byte-level post-processor, which adds nothing.
    private func postProcessor() throws -> [String: Any] {
        guard addBOS else { return ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true] }
        guard let bos = special.bos, bos >= 0, bos < tokens.count else {
            throw TokenizerError.invalidField(path: "tokenizer", field: "bos", reason: "adds a BOS token but has none")
        }
        let name = tokens[bos]
        let first: [String: Any] = ["SpecialToken": ["id": name, "type_id": 0]]
        return ["type": "TemplateProcessing",
                "single": [first, ["Sequence": ["id": "A", "type_id": 0]]],
                "pair": [first, ["Sequence": ["id": "A", "type_id": 0]], first, ["Sequence": ["id": "B", "type_id": 1]]],
                "special_tokens": [name: ["id": name, "ids": [bos], "tokens": [name]]]]
    }
}
