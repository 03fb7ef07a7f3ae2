import Foundation

/// The parts of a Hugging Face `tokenizer.json` both tokenizers read: the model section (of an
/// expected type), its vocabulary and the added tokens.
struct TokenizerJSONFile {
    let path: String
    let root: [String: Any]
    let model: [String: Any]

    init(url: URL, modelType: String) throws {
        path = url.path
        root = try readJSONObject(url)
        guard let model = root["model"] as? [String: Any] else { throw TokenizerError.missingField(path: path, field: "model") }
        let type = model["type"] as? String ?? modelType
        guard type == modelType else { throw TokenizerError.unsupported(path: path, field: "model.type", value: type) }
        self.model = model
    }

    /// `model.vocab`: token -> id.
    func vocab() throws -> [String: Int] {
        guard let raw = model["vocab"] as? [String: Any] else { throw TokenizerError.missingField(path: path, field: "model.vocab") }
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(raw.count)
        for (token, value) in raw {
            guard let id = value as? Int, id >= 0 else {
                throw TokenizerError.invalidField(path: path, field: "model.vocab[\(token)]", reason: "is not a non-negative integer id")
            }
            vocab[token] = id
        }
        return vocab
    }

    func addedTokens() throws -> [AddedToken] {
        try ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated().map { n, entry in
            guard let content = entry["content"] as? String, let id = entry["id"] as? Int, id >= 0 else {
                throw TokenizerError.invalidField(path: path, field: "added_tokens[\(n)]", reason: "needs `content` and `id`")
            }
            return AddedToken(content: content, id: id, special: entry["special"] as? Bool ?? false)
        }
    }
}
