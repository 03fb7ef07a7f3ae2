import Foundation

/// Encoding and decoding for `WordPieceTokenizer`.
extension WordPieceTokenizer {
    /// Ids of `text`, with `[CLS]`/`[SEP]` unless told otherwise, truncated to `maxLength`
    /// (default: the model's, e.g. 256) counting the special tokens. `[CLS]`, `[SEP]`, `[MASK]` …
    /// written in the text are text unless `parseSpecial` (Hugging Face's default, for parity tests):
    /// only the encoder's own framing adds them.
    public func encode(_ text: String, maxLength: Int? = nil, addSpecialTokens: Bool = true, parseSpecial: Bool = false) -> [Int] {
        encodeWithOffsets(text, maxLength: maxLength, addSpecialTokens: addSpecialTokens, parseSpecial: parseSpecial,
                          wantOffsets: false).ids
    }

    /// Ids with the range of Unicode scalars (Python string indices) each token came from; special
    /// tokens added by the template ([CLS]/[SEP]) get the empty range 0..<0.
    public func encodeWithOffsets(_ text: String, maxLength: Int? = nil, addSpecialTokens: Bool = true,
                                  parseSpecial: Bool = false) -> (ids: [Int], offsets: [Range<Int>]) {
        encodeWithOffsets(text, maxLength: maxLength, addSpecialTokens: addSpecialTokens, parseSpecial: parseSpecial,
                          wantOffsets: true)
    }

    /// Number of tokens of `text` (as text) without special tokens and without truncation.
    public func countTokens(_ text: String) -> Int {
        var count = 0
        forEachToken(Array(text.unicodeScalars.map(\.value)), limit: Int.max, parseSpecial: false) { _, _ in count += 1 }
        return count
    }

    private func encodeWithOffsets(_ text: String, maxLength: Int?, addSpecialTokens: Bool, parseSpecial: Bool,
                                   wantOffsets: Bool) -> (ids: [Int], offsets: [Range<Int>]) {
        let limit = max(0, (maxLength ?? self.maxLength) - (addSpecialTokens ? 2 : 0))
        var ids: [Int] = []
        var offsets: [Range<Int>] = []
        if addSpecialTokens { ids.append(clsID); if wantOffsets { offsets.append(0..<0) } }
        forEachToken(Array(text.unicodeScalars.map(\.value)), limit: limit, parseSpecial: parseSpecial) { id, range in
            ids.append(id)
            if wantOffsets { offsets.append(range) }
        }
        if addSpecialTokens { ids.append(sepID); if wantOffsets { offsets.append(0..<0) } }
        return (ids, offsets)
    }

    /// The core: added tokens (with `parseSpecial`), then normalise + pre-tokenise, then WordPiece
    /// on each word. Stops after `limit` tokens.
    private func forEachToken(_ scalars: [UInt32], limit: Int, parseSpecial: Bool, _ emit: (Int, Range<Int>) -> Void) {
        var produced = 0
        let segments = parseSpecial ? splitAddedTokens(scalars) : (scalars.isEmpty ? [] : [.text(0..<scalars.count)])
        for segment in segments {
            if produced >= limit { return }
            switch segment {
            case let .token(id, range):
                emit(id, range)
                produced += 1
            case .text(let range):
                let normalizer = self.normalizer ?? BertNormalizer(cleanText: false, handleChineseChars: false,
                                                                   stripAccents: false, lowercase: false)
                normalizer.forEachWord(scalars, range) { word in
                    wordPiece(word, limit: limit, produced: &produced, emit)
                    return produced < limit
                }
            }
        }
    }

    private func wordPiece(_ word: BertNormalizer.WordBuffer, limit: Int, produced: inout Int,
                           _ emit: (Int, Range<Int>) -> Void) {
        let sources = word.sources
        let wordRange = Int(sources[0])..<(Int(sources[sources.count - 1]) + 1)
        if word.scalarCount > maxInputCharsPerWord {
            emit(unkID, wordRange); produced += 1
            return
        }
        word.bytes.withUnsafeBufferPointer { bytes in
            // First pass finds the pieces; a word with any unknown piece becomes one [UNK].
            var pieces: [(id: Int32, start: Int, end: Int)] = []
            var start = 0
            while start < bytes.count {
                let match = start == 0 ? lookupWordStart(bytes, start, bytes.count)
                                       : lookupContinuation(bytes, start, bytes.count)
                guard let match else {
                    emit(unkID, wordRange); produced += 1
                    return
                }
                pieces.append((match.id, start, start + match.length))
                start += match.length
            }
            for piece in pieces where produced < limit {
                emit(Int(piece.id), Int(sources[piece.start])..<(Int(sources[piece.end - 1]) + 1))
                produced += 1
            }
        }
    }

    /// Text of `ids`: sub-words glued to their word, words separated by spaces, spaces before
    /// punctuation and contractions removed (the `cleanup` of BERT's decoder).
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        var out = ""
        var first = true
        for id in ids where id >= 0 && id < vocabSize {
            if skipSpecialTokens && specialIDs.contains(id) { continue }
            var token = tokenStrings[id]
            if !first && token.utf8.starts(with: continuingPrefix.utf8) {
                token = String(decoding: token.utf8.dropFirst(continuingPrefix.utf8.count), as: UTF8.self)
            } else if !first {
                token = " " + token
            }
            first = false
            out += Self.cleanup(token)
        }
        return out
    }

    private static func cleanup(_ token: String) -> String {
        guard token.utf8.first == 0x20 else { return token }
        var t = token
        for (dirty, clean) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                               (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            t = t.replacingOccurrences(of: dirty, with: clean)
        }
        return t
    }
}
