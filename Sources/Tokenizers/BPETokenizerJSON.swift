import Foundation

extension BPETokenizer {
    /// A Hugging Face `tokenizer.json` with a byte-level BPE model (vocab + merges), its
    /// `added_tokens`, and a ByteLevel pre-tokenizer, optionally preceded by Digits(individual_digits).
    public init(tokenizerJSON url: URL) throws {
        let file = try TokenizerJSONFile(url: url, modelType: "BPE")
        let (root, model, path) = (file.root, file.model, file.path)
        let vocab = try file.vocab()
        guard let rawMerges = model["merges"] as? [Any] else {
            throw TokenizerError.missingField(path: path, field: "model.merges")
        }
        let added = try file.addedTokens()
        var byID: [Int: String] = [:]
        for (token, id) in vocab { byID[id] = token }
        for token in added { byID[token.id] = token.content }
        let size = (byID.keys.max() ?? -1) + 1
        var tokens = [String](repeating: "", count: size)
        for (id, token) in byID { tokens[id] = token }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(rawMerges.count)
        for (rank, merge) in rawMerges.enumerated() {
            if let line = merge as? String {
                let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw TokenizerError.invalidField(path: path, field: "model.merges[\(rank)]", reason: "is not `a b`")
                }
                pairs.append((String(parts[0]), String(parts[1])))
            } else if let pair = merge as? [String], pair.count == 2 {
                pairs.append((pair[0], pair[1]))
            } else {
                throw TokenizerError.invalidField(path: path, field: "model.merges[\(rank)]", reason: "is neither `a b` nor [a, b]")
            }
        }
        let special = Self.specialTokenIDs(configIn: url.deletingLastPathComponent(), added: added)
        try self.init(tokens: tokens, mergePairs: pairs, added: added, special: special,
                      preTokenizer: try Self.preTokenizer(root["pre_tokenizer"] as? [String: Any], path: path),
                      addBOS: Self.postProcessorAddsBOS(root["post_processor"] as? [String: Any], bos: special.bos.flatMap { byID[$0] }),
                      source: path)
    }

    /// Whether the post-processor puts the BOS token first (TemplateProcessing, alone or in a Sequence).
    private static func postProcessorAddsBOS(_ config: [String: Any]?, bos: String?) -> Bool {
        guard let config, let bos else { return false }
        let steps = (config["type"] as? String) == "Sequence" ? (config["processors"] as? [[String: Any]] ?? []) : [config]
        return steps.contains { step in
            guard step["type"] as? String == "TemplateProcessing",
                  let first = (step["single"] as? [[String: Any]])?.first,
                  let token = first["SpecialToken"] as? [String: Any] else { return false }
            return token["id"] as? String == bos
        }
    }

    /// bos/eos/unk/pad named by a sibling `tokenizer_config.json` (strings or {"content": …}).
    private static func specialTokenIDs(configIn directory: URL, added: [AddedToken]) -> SpecialTokenIDs {
        guard let config = try? readJSONObject(directory.appendingPathComponent("tokenizer_config.json")) else {
            return SpecialTokenIDs()
        }
        func id(_ key: String) -> Int? {
            let value = config[key]
            let name = value as? String ?? (value as? [String: Any])?["content"] as? String
            return name.flatMap { n in added.first { $0.content == n }?.id }
        }
        return SpecialTokenIDs(bos: id("bos_token"), eos: id("eos_token"), unknown: id("unk_token"), padding: id("pad_token"))
    }

    private static func preTokenizer(_ config: [String: Any]?, path: String) throws -> BPEPreTokenizer {
        guard let config else { throw TokenizerError.missingField(path: path, field: "pre_tokenizer") }
        let steps = (config["type"] as? String) == "Sequence" ? (config["pretokenizers"] as? [[String: Any]] ?? []) : [config]
        var splitDigits = false
        var byteLevel = false
        for step in steps {
            let type = step["type"] as? String ?? "?"
            switch type {
            case "Digits" where step["individual_digits"] as? Bool == true && !byteLevel:
                splitDigits = true
            case "ByteLevel" where step["add_prefix_space"] as? Bool != true && step["use_regex"] as? Bool != false:
                byteLevel = true
            default:
                throw TokenizerError.unsupported(path: path, field: "pre_tokenizer", value: "\(type) step \(step)")
            }
        }
        guard byteLevel else { throw TokenizerError.unsupported(path: path, field: "pre_tokenizer", value: "no ByteLevel step") }
        return BPEPreTokenizer(splitDigitsIndividually: splitDigits)
    }
}
