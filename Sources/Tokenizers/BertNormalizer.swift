import Foundation

/// BERT's normaliser fused with BERT's pre-tokenizer: walks the scalars once and hands out words as
/// UTF-8 bytes, each byte tagged with the index of the input scalar it came from (for offsets).
/// Order of steps as in Hugging Face's BertNormalizer: clean text, pad CJK ideographs, strip accents
/// (NFD, drop Mn), lower-case; then split on whitespace and isolate punctuation.
struct BertNormalizer: Sendable {
    var cleanText = true
    var handleChineseChars = true
    var stripAccents = true
    var lowercase = true

    /// Reusable buffers for one word.
    struct WordBuffer {
        var bytes: [UInt8] = []
        var sources: [Int32] = []
        var scalarCount = 0

        mutating func append(_ v: UInt32, source: Int) {
            let before = bytes.count
            UTF8Bytes.append(v, to: &bytes)
            let s = Int32(truncatingIfNeeded: source)
            for _ in before..<bytes.count { sources.append(s) }
            scalarCount += 1
        }

        mutating func reset() {
            bytes.removeAll(keepingCapacity: true)
            sources.removeAll(keepingCapacity: true)
            scalarCount = 0
        }
    }

    /// Calls `word` for every pre-token of `scalars[range]`; `word` returns false to stop early.
    func forEachWord(_ scalars: [UInt32], _ range: Range<Int>, _ word: (inout WordBuffer) -> Bool) {
        var buffer = WordBuffer()
        buffer.bytes.reserveCapacity(64)
        buffer.sources.reserveCapacity(64)
        var stopped = false
        @inline(__always) func flush() {
            if buffer.scalarCount > 0 && !stopped { stopped = !word(&buffer) }
            buffer.reset()
        }
        for index in range {
            if stopped { return }
            let v = scalars[index]
            if v < 0x80 {  // ASCII fast path: no accents, simple case mapping
                if cleanText && UnicodeClasses.isControl(v) { continue }
                if UnicodeClasses.isWhitespace(v) { flush(); continue }
                if UnicodeClasses.isBertPunctuation(v) {
                    flush(); buffer.append(v, source: index); flush(); continue
                }
                let lower = lowercase && v >= 65 && v <= 90 ? v + 32 : v
                buffer.append(lower, source: index)
                continue
            }
            if cleanText && (v == 0xFFFD || UnicodeClasses.isControl(v)) { continue }
            if cleanText && UnicodeClasses.isWhitespace(v) { flush(); continue }
            let isolate = handleChineseChars && UnicodeClasses.isCJKIdeograph(v)
            if isolate { flush() }
            for piece in stripAccents ? Self.canonicalDecomposition(v) : [v] {
                if stripAccents && UnicodeClasses.isNonspacingMark(piece) { continue }
                for c in lowercase ? Self.lowercaseMapping(piece) : [piece] {
                    if UnicodeClasses.isWhitespace(c) {
                        flush()
                    } else if UnicodeClasses.isBertPunctuation(c) {
                        flush(); buffer.append(c, source: index); flush()
                    } else {
                        buffer.append(c, source: index)
                    }
                }
            }
            if isolate { flush() }
        }
        flush()
    }

    /// NFD of one scalar. Scalars below U+00C0 and the main CJK blocks never decompose; Hangul
    /// syllables decompose arithmetically; the rest asks Foundation.
    static func canonicalDecomposition(_ v: UInt32) -> [UInt32] {
        if v < 0xC0 || (v >= 0x4E00 && v <= 0x9FFF) || (v >= 0x3400 && v <= 0x4DBF) { return [v] }
        if v >= 0xAC00 && v <= 0xD7A3 {  // Hangul syllable = L V (T)
            let s = v - 0xAC00
            let l = 0x1100 + s / 588, vowel = 0x1161 + (s % 588) / 28, t = s % 28
            return t == 0 ? [l, vowel] : [l, vowel, 0x11A7 + t]
        }
        guard let scalar = Unicode.Scalar(v) else { return [v] }
        return String(Character(scalar)).decomposedStringWithCanonicalMapping.unicodeScalars.map(\.value)
    }

    /// Per-character lower-case mapping (no context rules such as final sigma, as in Rust's `char::to_lowercase`).
    static func lowercaseMapping(_ v: UInt32) -> [UInt32] {
        guard let scalar = Unicode.Scalar(v), scalar.properties.changesWhenLowercased else { return [v] }
        return scalar.properties.lowercaseMapping.unicodeScalars.map(\.value)
    }
}
