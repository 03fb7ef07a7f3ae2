/// Where text may be split: paragraphs, sentences, words, characters. Each returns the pieces as
/// ranges without surrounding whitespace, in order.
enum TextBoundaries {
    /// Paragraphs of normalised text (separated by "\n\n").
    static func paragraphs(_ text: Substring) -> [Range<String.Index>] {
        var result: [Range<String.Index>] = []
        var start = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "\n" {
                appendTrimmed(text, start..<i, to: &result)
                var j = i
                while j < text.endIndex && text[j].isWhitespace { j = text.index(after: j) }
                start = j
                i = j
            } else {
                i = text.index(after: i)
            }
        }
        appendTrimmed(text, start..<text.endIndex, to: &result)
        return result
    }

    /// Sentence ends: '.', '!', '?' (with closing quotes or brackets) before whitespace, and the
    /// CJK marks 。！？； (also the full-width forms) anywhere, since CJK text has no spaces.
    static func sentences(_ text: Substring) -> [Range<String.Index>] {
        var result: [Range<String.Index>] = []
        var start = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            let c = text[i]
            var next = text.index(after: i)
            let isCJKEnd = cjkSentenceEnds.contains(c)
            if isCJKEnd || latinSentenceEnds.contains(c) {
                while next < text.endIndex, closers.contains(text[next]) || (isCJKEnd && cjkSentenceEnds.contains(text[next]))
                    || (!isCJKEnd && latinSentenceEnds.contains(text[next])) {
                    next = text.index(after: next)
                }
                if isCJKEnd || next == text.endIndex || text[next].isWhitespace {
                    appendTrimmed(text, start..<next, to: &result)
                    start = next
                }
            }
            i = next
        }
        appendTrimmed(text, start..<text.endIndex, to: &result)
        return result
    }

    static func words(_ text: Substring) -> [Range<String.Index>] {
        var result: [Range<String.Index>] = []
        var i = text.startIndex
        while i < text.endIndex {
            while i < text.endIndex && text[i].isWhitespace { i = text.index(after: i) }
            let start = i
            while i < text.endIndex && !text[i].isWhitespace { i = text.index(after: i) }
            if start < i { result.append(start..<i) }
        }
        return result
    }

    static let latinSentenceEnds: Set<Character> = [".", "!", "?", "…"]
    static let cjkSentenceEnds: Set<Character> = ["。", "！", "？", "；", "｡", "．"]
    static let closers: Set<Character> = ["\"", "'", ")", "]", "’", "”", "»", "」", "』", "）", "】", "〉", "》"]

    private static func appendTrimmed(_ text: Substring, _ range: Range<String.Index>, to result: inout [Range<String.Index>]) {
        var lo = range.lowerBound, hi = range.upperBound
        while lo < hi && text[lo].isWhitespace { lo = text.index(after: lo) }
        while hi > lo && text[text.index(before: hi)].isWhitespace { hi = text.index(before: hi) }
        if lo < hi { result.append(lo..<hi) }
    }
}
