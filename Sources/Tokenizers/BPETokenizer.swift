import Foundation

/// Ids of the model's special tokens as GGUF / tokenizer_config name them.
public struct SpecialTokenIDs: Sendable, Equatable {
    public var bos: Int?
    public var eos: Int?
    public var unknown: Int?
    public var padding: Int?

    public init(bos: Int? = nil, eos: Int? = nil, unknown: Int? = nil, padding: Int? = nil) {
        self.bos = bos; self.eos = eos; self.unknown = unknown; self.padding = padding
    }
}

/// Byte-level BPE (GPT-2 family; SmolLM2): added tokens cut out first, GPT-2 pre-tokenisation,
/// bytes mapped to printable characters, ranked merges.
public struct BPETokenizer: Sendable {
    public let vocabSize: Int
    public let special: SpecialTokenIDs
    public let preTokenizer: BPEPreTokenizer
    /// Prepend BOS in `encode` (GGUF `tokenizer.ggml.add_bos_token`; false for SmolLM2).
    public let addBOS: Bool

    let tokens: [String]                 // id -> token text (byte-level alphabet)
    let tokenIDs: [String: Int]
    let addedTokens: [AddedToken]
    let specialIDs: Set<Int>
    private let addedIDs: Set<Int>
    private let byteTokenID: [Int32]     // byte -> id of its single-character token
    let merges: BPEMerges
    private let addedMatcher: AddedTokenMatcher

    /// From arrays as GGUF carries them: `tokenizer.ggml.tokens`, `.merges` ("a b" by rank),
    /// `.token_type` (llama.cpp: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte).
    /// Control tokens are special added tokens, user-defined ones plain added tokens.
    public init(tokens: [String], merges: [String], tokenTypes: [Int]? = nil,
                specialTokenIDs: SpecialTokenIDs = SpecialTokenIDs(), preTokenizer: BPEPreTokenizer = .gpt2,
                addBOS: Bool = false) throws {
        var added: [AddedToken] = []
        if let tokenTypes {
            guard tokenTypes.count == tokens.count else {
                throw TokenizerError.invalidField(path: "GGUF metadata", field: "tokenizer.ggml.token_type",
                                                  reason: "has \(tokenTypes.count) entries for \(tokens.count) tokens")
            }
            for (id, type) in tokenTypes.enumerated() where type == 3 || type == 4 {
                added.append(AddedToken(content: tokens[id], id: id, special: type == 3))
            }
        }
        let pairs = merges.map { line -> (String, String) in
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : (line, "")
        }
        try self.init(tokens: tokens, mergePairs: pairs, added: added, special: specialTokenIDs,
                      preTokenizer: preTokenizer, addBOS: addBOS, source: "GGUF metadata")
    }

    init(tokens: [String], mergePairs: [(String, String)], added: [AddedToken], special: SpecialTokenIDs,
         preTokenizer: BPEPreTokenizer, addBOS: Bool, source: String) throws {
        guard !tokens.isEmpty else { throw TokenizerError.invalidField(path: source, field: "tokens", reason: "is empty") }
        var ids: [String: Int] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() where ids[token] == nil { ids[token] = id }
        var byteIDs = [Int32](repeating: -1, count: 256)
        for b in 0..<256 { byteIDs[b] = Int32(ids[ByteLevel.tokenString(ofByte: UInt8(b))] ?? -1) }
        var table: [UInt64: (rank: Int32, merged: Int32)] = [:]
        table.reserveCapacity(mergePairs.count)
        for (rank, (a, b)) in mergePairs.enumerated() {
            guard let left = ids[a], let right = ids[b], let merged = ids[a + b] else {
                throw TokenizerError.invalidField(path: source, field: "merges[\(rank)]",
                                                  reason: "`\(a) \(b)` names a token that is not in the vocabulary")
            }
            let key = BPEMerges.key(Int32(left), Int32(right))
            if table[key] == nil { table[key] = (Int32(rank), Int32(merged)) }
        }
        self.tokens = tokens
        tokenIDs = ids
        vocabSize = tokens.count
        self.special = special
        self.preTokenizer = preTokenizer
        self.addBOS = addBOS
        addedTokens = added
        specialIDs = Set(added.filter(\.special).map(\.id))
        addedIDs = Set(added.map(\.id))
        byteTokenID = byteIDs
        merges = BPEMerges(pairs: table)
        addedMatcher = AddedTokenMatcher(added)
    }

    public func id(of token: String) -> Int? { tokenIDs[token] }

    /// Ids of `text`. Without `parseSpecial` (the default: text from outside is text), added
    /// tokens written in the text (`<|im_start|>` …) are tokenised as the characters they spell;
    /// with it they become their ids (raw completion when asked, parity with Hugging Face).
    public func encode(_ text: String, parseSpecial: Bool = false, addBOS: Bool? = nil) -> [Int] {
        let scalars = Array(text.unicodeScalars.map(\.value))
        var out: [Int] = []
        out.reserveCapacity(scalars.count / 3 + 2)
        if addBOS ?? self.addBOS, let bos = special.bos { out.append(bos) }
        let segments: [TextSegment] = parseSpecial ? addedMatcher.split(scalars)
                                                   : (scalars.isEmpty ? [] : [.text(0..<scalars.count)])
        var bytes: [UInt8] = []
        var symbols: [Int32] = []
        for segment in segments {
            switch segment {
            case let .token(id, _):
                out.append(id)
            case let .text(range):
                preTokenizer.split(scalars, range) { piece in
                    bytes.removeAll(keepingCapacity: true)
                    for i in piece { UTF8Bytes.append(scalars[i], to: &bytes) }
                    symbols.removeAll(keepingCapacity: true)
                    for b in bytes { symbols.append(byteTokenID[Int(b)]) }
                    if symbols.contains(-1) {  // a vocabulary without some byte: drop what cannot be encoded
                        symbols.removeAll { $0 < 0 }
                    }
                    for id in merges.apply(symbols) { out.append(Int(id)) }
                }
            }
        }
        return out
    }

    /// Token count of `text` as text (added tokens not parsed, no BOS).
    public func countTokens(_ text: String) -> Int { encode(text, parseSpecial: false, addBOS: false).count }

    /// Whether `id` is an added token (control or user-defined), not one of the merged vocabulary.
    func isAddedToken(_ id: Int) -> Bool { addedIDs.contains(id) }

    /// Raw bytes of `ids` (special tokens dropped when `skipSpecial`); may end inside a character.
    public func decodeBytes(_ ids: [Int], skipSpecial: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { appendBytes(of: id, skipSpecial: skipSpecial, to: &bytes) }
        return bytes
    }

    /// Text of `ids`; bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    func appendBytes(of id: Int, skipSpecial: Bool, to bytes: inout [UInt8]) {
        guard id >= 0 && id < tokens.count else { return }
        if specialIDs.contains(id) {
            if !skipSpecial { bytes.append(contentsOf: Array(tokens[id].utf8)) }
        } else if addedIDs.contains(id) {
            bytes.append(contentsOf: Array(tokens[id].utf8))
        } else {
            ByteLevel.bytes(ofToken: tokens[id], into: &bytes)
        }
    }
}
