/// Where text may be split: paragraphs, sentences, words. Each returns the pieces as ranges
/// without surrounding whitespace, in order. They scan UTF-8 bytes or scalars, not grapheme
/// clusters (the separators they look for are single scalars), which keeps them fast.
enum TextBoundaries {
    /// Paragraphs of normalised text (separated by "\n\n"; any line break separates here).
    static func paragraphs(_ text: Substring) -> [Range<String.Index>] {
        split(text) { $0 == 0x0A }
    }

    /// Words: runs between spaces, tabs and line breaks.
    static func words(_ text: Substring) -> [Range<String.Index>] {
        split(text) { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }
    }

    /// Sentence ends: '.', '!', '?', '…' (with closing quotes or brackets) before whitespace, and
    /// the CJK marks 。！？； (also full-width and half-width forms) anywhere, since CJK text has
    /// no spaces.
    static func sentences(_ text: Substring) -> [Range<String.Index>] {
        let scalars = text.unicodeScalars
        var result: [Range<String.Index>] = []
        var start = scalars.startIndex
        var i = scalars.startIndex
        while i < scalars.endIndex {
            let c = scalars[i]
            var next = scalars.index(after: i)
            let isCJKEnd = cjkSentenceEnds.contains(c)
            if isCJKEnd || latinSentenceEnds.contains(c) {
                let ends = isCJKEnd ? cjkSentenceEnds : latinSentenceEnds
                while next < scalars.endIndex, closers.contains(scalars[next]) || ends.contains(scalars[next]) {
                    next = scalars.index(after: next)
                }
                if isCJKEnd || next == scalars.endIndex || scalars[next].properties.isWhitespace {
                    appendTrimmed(text, start..<next, to: &result)
                    start = next
                }
            }
            i = next
        }
        appendTrimmed(text, start..<scalars.endIndex, to: &result)
        return result
    }

    static let latinSentenceEnds: Set<Unicode.Scalar> = [".", "!", "?", "…"]
    static let cjkSentenceEnds: Set<Unicode.Scalar> = ["。", "！", "？", "；", "｡", "．"]
    static let closers: Set<Unicode.Scalar> = ["\"", "'", ")", "]", "’", "”", "»", "」", "』", "）", "】", "〉", "》"]

    /// Runs of bytes between separator bytes (ASCII separators only, so cuts fall on scalar boundaries).
    private static func split(_ text: Substring, isSeparator: (UInt8) -> Bool) -> [Range<String.Index>] {
        let bytes = text.utf8
        var result: [Range<String.Index>] = []
        var i = bytes.startIndex
        while i < bytes.endIndex {
            while i < bytes.endIndex && isSeparator(bytes[i]) { i = bytes.index(after: i) }
            let start = i
            while i < bytes.endIndex && !isSeparator(bytes[i]) { i = bytes.index(after: i) }
            if start < i { appendTrimmed(text, start..<i, to: &result) }
        }
        return result
    }

    private static func appendTrimmed(_ text: Substring, _ range: Range<String.Index>, to result: inout [Range<String.Index>]) {
        let scalars = text.unicodeScalars
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi && scalars[lo].properties.isWhitespace { lo = scalars.index(after: lo) }
        while hi > lo && scalars[scalars.index(before: hi)].properties.isWhitespace { hi = scalars.index(before: hi) }
        if lo < hi { result.append(lo..<hi) }
    }
}
