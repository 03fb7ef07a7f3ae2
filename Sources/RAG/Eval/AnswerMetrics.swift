import Foundation

/// Answer quality against a short reference, in the manner of SQuAD: text is lower-cased, stripped
/// of punctuation and English articles, and split into tokens; CJK characters count one token each.
public enum AnswerMetrics {
    public static func normalizedTokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        func flush() {
            if !word.isEmpty, !["a", "an", "the"].contains(word) { tokens.append(word) }
            word = ""
        }
        for scalar in text.lowercased().unicodeScalars {
            if isCJK(scalar) {
                flush()
                tokens.append(String(scalar))
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                word.unicodeScalars.append(scalar)
            } else if scalar == "." || scalar == "," || scalar == "-", !word.isEmpty, word.last?.isNumber == true {
                word.unicodeScalars.append(scalar)  // keep 0.95, 1,024 and 3-5 whole
            } else {
                flush()
            }
        }
        flush()
        // a trailing separator kept by the number rule ("5." at a sentence end) is punctuation
        return tokens.map { t in
            var t = t
            while let last = t.last, last == "." || last == "," || last == "-" { t.removeLast() }
            return t
        }.filter { !$0.isEmpty }
    }

    /// Token-level F1 between a prediction and a reference.
    public static func f1(prediction: String, reference: String) -> Double {
        let p = normalizedTokens(prediction), r = normalizedTokens(reference)
        if p.isEmpty || r.isEmpty { return p.isEmpty && r.isEmpty ? 1 : 0 }
        var counts: [String: Int] = [:]
        for t in r { counts[t, default: 0] += 1 }
        var common = 0
        for t in p where (counts[t] ?? 0) > 0 {
            common += 1
            counts[t, default: 0] -= 1
        }
        if common == 0 { return 0 }
        let precision = Double(common) / Double(p.count), recall = Double(common) / Double(r.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// Exact match after normalisation.
    public static func exactMatch(prediction: String, reference: String) -> Bool {
        normalizedTokens(prediction) == normalizedTokens(reference)
    }

    /// Whether `text` contains the reference answer (normalised token sequence as a contiguous run).
    public static func contains(_ text: String, answer: String) -> Bool {
        let needle = normalizedTokens(answer), hay = normalizedTokens(text)
        guard !needle.isEmpty, hay.count >= needle.count else { return false }
        for start in 0...(hay.count - needle.count) where hay[start] == needle[0] {
            if Array(hay[start..<start + needle.count]) == needle { return true }
        }
        return false
    }

    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2FA1F, 0xAC00...0xD7AF:
            return true
        default:
            return false
        }
    }
}
