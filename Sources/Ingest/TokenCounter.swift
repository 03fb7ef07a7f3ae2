/// Counts tokens the way the embedder will see them. The pipeline implements it with the
/// embedder's WordPiece tokenizer; `SimpleTokenCounter` serves tests and benchmarks.
public protocol TokenCounter: Sendable {
    func countTokens(_ text: Substring) -> Int
}

extension TokenCounter {
    public func countTokens(_ text: String) -> Int { countTokens(text[...]) }
}

/// BERT's basic tokenisation without WordPiece: each run of letters/digits is one token, each
/// punctuation or symbol character is one, each CJK ideograph is one. (A lower bound on the
/// WordPiece count, which splits rare words further.)
public struct SimpleTokenCounter: TokenCounter {
    public init() {}

    public func countTokens(_ text: Substring) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {  // ASCII fast path
                let isWordByte = (v >= 0x30 && v <= 0x39) || ((v | 0x20) >= 0x61 && (v | 0x20) <= 0x7A)
                if isWordByte {
                    if !inWord { count += 1 }
                    inWord = true
                } else {
                    if v > 0x20 && v < 0x7F { count += 1 }  // punctuation
                    inWord = false
                }
                continue
            }
            let p = scalar.properties
            if p.isWhitespace {
                inWord = false
            } else if p.isIdeographic {
                count += 1
                inWord = false
            } else if p.isAlphabetic || p.numericType != nil || p.generalCategory == .nonspacingMark
                        || p.generalCategory == .spacingMark {
                if !inWord { count += 1 }
                inWord = true
            } else if p.generalCategory == .control || p.generalCategory == .format {
                inWord = false
            } else {
                count += 1  // punctuation, symbol
                inWord = false
            }
        }
        return count
    }
}
