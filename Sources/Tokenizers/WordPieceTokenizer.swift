import Foundation

/// BERT's WordPiece tokenizer (all-MiniLM-L6-v2): BERT normaliser and pre-tokenizer, greedy
/// longest-match-first sub-words with a `##` continuation prefix, `[CLS] … [SEP]` template.
public struct WordPieceTokenizer: Sendable {
    public let vocabSize: Int
    public let padID: Int
    public let clsID: Int
    public let sepID: Int
    public let unkID: Int
    /// Default truncation length including [CLS]/[SEP] (256 for all-MiniLM-L6-v2).
    public let maxLength: Int

    let normalizer: BertNormalizer?
    let maxInputCharsPerWord: Int
    let continuingPrefix: String
    let tokenStrings: [String]          // id -> token
    let specialIDs: Set<Int>
    private let wordStarts: ByteTrie     // tokens without the prefix
    private let continuations: ByteTrie  // tokens with the prefix, keyed without it
    private let addedTokens: AddedTokenMatcher

    /// A Hugging Face model folder: `tokenizer.json`, or else `vocab.txt` + `tokenizer_config.json`.
    public init(directory: URL) throws {
        let json = directory.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: json.path) {
            try self.init(tokenizerJSON: json)
        } else {
            try self.init(vocabTXTIn: directory)
        }
    }

    /// A `tokenizer.json` with a WordPiece model; sibling `sentence_bert_config.json` /
    /// `tokenizer_config.json` give the default maximum length.
    public init(tokenizerJSON url: URL) throws {
        let file = try TokenizerJSONFile(url: url, modelType: "WordPiece")
        let (root, model, path) = (file.root, file.model, file.path)
        var vocab = try file.vocab()
        let added = try file.addedTokens()
        for token in added { vocab[token.content] = token.id }
        var normalizer: BertNormalizer? = nil
        if let n = root["normalizer"] as? [String: Any] {
            let nType = n["type"] as? String ?? ""
            guard nType == "BertNormalizer" else { throw TokenizerError.unsupported(path: path, field: "normalizer.type", value: nType) }
            let lower = n["lowercase"] as? Bool ?? true
            normalizer = BertNormalizer(cleanText: n["clean_text"] as? Bool ?? true,
                                        handleChineseChars: n["handle_chinese_chars"] as? Bool ?? true,
                                        stripAccents: n["strip_accents"] as? Bool ?? lower, lowercase: lower)
        }
        let unk = model["unk_token"] as? String ?? "[UNK]"
        try self.init(vocab: vocab, added: added, normalizer: normalizer, unkToken: unk,
                      continuingPrefix: model["continuing_subword_prefix"] as? String ?? "##",
                      maxInputCharsPerWord: model["max_input_chars_per_word"] as? Int ?? 100,
                      template: Self.templateTokens(root["post_processor"] as? [String: Any]),
                      maxLength: Self.defaultMaxLength(in: url.deletingLastPathComponent()), path: path)
    }

    /// `vocab.txt` (one token a line, id = line number) with `tokenizer_config.json` options.
    init(vocabTXTIn directory: URL) throws {
        let vocabURL = directory.appendingPathComponent("vocab.txt")
        let text: String
        do { text = try String(contentsOf: vocabURL, encoding: .utf8) } catch {
            throw TokenizerError.unreadableFile(path: vocabURL.path, reason: error.localizedDescription)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if lines.last == "" { lines.removeLast() }
        var vocab: [String: Int] = [:]
        for (id, token) in lines.enumerated() where vocab[token] == nil { vocab[token] = id }
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configURL.path) ? try readJSONObject(configURL) : [:]
        let lower = config["do_lower_case"] as? Bool ?? true
        let normalizer = BertNormalizer(cleanText: true,
                                        handleChineseChars: config["tokenize_chinese_chars"] as? Bool ?? true,
                                        stripAccents: config["strip_accents"] as? Bool ?? lower, lowercase: lower)
        let name = { (key: String, fallback: String) in config[key] as? String ?? fallback }
        let specials = [name("pad_token", "[PAD]"), name("unk_token", "[UNK]"), name("cls_token", "[CLS]"),
                        name("sep_token", "[SEP]"), name("mask_token", "[MASK]")]
        let added = specials.compactMap { token in vocab[token].map { AddedToken(content: token, id: $0, special: true) } }
        try self.init(vocab: vocab, added: added, normalizer: normalizer, unkToken: name("unk_token", "[UNK]"),
                      continuingPrefix: "##", maxInputCharsPerWord: 100,
                      template: (name("cls_token", "[CLS]"), name("sep_token", "[SEP]")),
                      maxLength: Self.defaultMaxLength(in: directory), path: vocabURL.path)
    }

    init(vocab: [String: Int], added: [AddedToken], normalizer: BertNormalizer?, unkToken: String,
         continuingPrefix: String, maxInputCharsPerWord: Int, template: (cls: String, sep: String)?,
         maxLength: Int, path: String) throws {
        guard !vocab.isEmpty else { throw TokenizerError.invalidField(path: path, field: "vocab", reason: "is empty") }
        guard let unk = vocab[unkToken] else {
            throw TokenizerError.invalidField(path: path, field: "unk_token", reason: "`\(unkToken)` is not in the vocabulary")
        }
        let size = (vocab.values.max() ?? 0) + 1
        var strings = [String](repeating: "", count: size)
        for (token, id) in vocab { strings[id] = token }
        vocabSize = size
        tokenStrings = strings
        unkID = unk
        clsID = vocab[template?.cls ?? "[CLS]"] ?? -1
        sepID = vocab[template?.sep ?? "[SEP]"] ?? -1
        padID = vocab["[PAD]"] ?? 0
        self.normalizer = normalizer
        self.continuingPrefix = continuingPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.maxLength = maxLength
        specialIDs = Set(added.filter(\.special).map(\.id))
        addedTokens = AddedTokenMatcher(added)
        // Prefix tests on UTF-8 bytes: "##" followed by a combining mark is one Character in Swift.
        let prefix = Array(continuingPrefix.utf8)
        wordStarts = ByteTrie(vocab.lazy.filter { !$0.key.utf8.starts(with: prefix) }.map { ($0.key, $0.value) })
        continuations = ByteTrie(vocab.lazy.filter { $0.key.utf8.starts(with: prefix) && $0.key.utf8.count > prefix.count }
            .map { (String(decoding: $0.key.utf8.dropFirst(prefix.count), as: UTF8.self), $0.value) })
    }

    /// The first and last special tokens of the post-processor's single-sequence template.
    private static func templateTokens(_ post: [String: Any]?) -> (cls: String, sep: String)? {
        guard let post else { return nil }
        if let single = post["single"] as? [[String: Any]] {
            let specials = single.compactMap { ($0["SpecialToken"] as? [String: Any])?["id"] as? String }
            if let first = specials.first, let last = specials.last, specials.count == 2 { return (first, last) }
        }
        if let cls = (post["cls"] as? [Any])?.first as? String, let sep = (post["sep"] as? [Any])?.first as? String {
            return (cls, sep)
        }
        return nil
    }

    /// sentence-transformers' `max_seq_length`, else `model_max_length`, else 512.
    private static func defaultMaxLength(in directory: URL) -> Int {
        let st = directory.appendingPathComponent("sentence_bert_config.json")
        if let config = try? readJSONObject(st), let length = config["max_seq_length"] as? Int, length > 0 { return length }
        let tc = directory.appendingPathComponent("tokenizer_config.json")
        if let config = try? readJSONObject(tc), let length = config["model_max_length"] as? Int, length > 0, length < 1_000_000 {
            return length
        }
        return 512
    }


    func lookupWordStart(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (id: Int32, length: Int)? {
        wordStarts.longestPrefix(bytes, from: start, to: end)
    }

    func lookupContinuation(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (id: Int32, length: Int)? {
        continuations.longestPrefix(bytes, from: start, to: end)
    }

    func splitAddedTokens(_ scalars: [UInt32]) -> [TextSegment] { addedTokens.split(scalars) }
}
