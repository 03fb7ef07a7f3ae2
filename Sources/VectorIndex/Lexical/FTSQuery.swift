import Foundation

/// Turns user text into FTS5 queries that cannot raise a syntax error: only runs of letters,
/// digits and combining marks survive, each is double-quoted (a literal phrase), and terms are OR-ed.
/// FTS5 operators typed by the user (`NEAR(`, `*`, `-`, `AND`, quotes, parentheses) become plain
/// words or disappear.
enum FTSQuery {
    static let maxTerms = 32

    /// Maximal runs of word characters, in order, without duplicates.
    static func terms(_ text: String) -> [String] {
        var terms: [String] = [], seen: Set<String> = [], current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty {
                let term = String(current)
                if seen.insert(term.lowercased()).inserted { terms.append(term) }
                current = String.UnicodeScalarView()
            }
        }
        for scalar in text.unicodeScalars {
            if isWordScalar(scalar) { current.append(scalar) } else { flush() }
        }
        flush()
        return Array(terms.prefix(maxTerms))
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark:
            return true
        default:
            return false
        }
    }

    /// Han, kana, Hangul and their compatibility/extension blocks.
    static func isCJK(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x3040...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xAC00...0xD7AF,
             0x1100...0x11FF, 0x3130...0x318F, 0xF900...0xFAFF, 0xFF66...0xFF9F, 0x20000...0x2FA1F:
            return true
        default:
            return false
        }
    }

    static func containsCJK(_ text: String) -> Bool { text.unicodeScalars.contains(where: isCJK) }

    static func quoted(_ term: String) -> String { "\"" + term.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// English function words. BM25 gives them almost no weight, but OR-ed into a query they match
    /// nearly every chunk, and ranking all those matches is what made lexical search slow on large
    /// bases (75 ms on 110k chunks for "how do I … in Python"); they are dropped when a query has
    /// other words.
    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i",
        "if", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "what",
        "when", "where", "which", "who", "why", "will", "with", "you", "my", "me", "we",
    ]

    /// The words a query searches for: its terms without the stop words (all of them when the
    /// query has nothing else).
    static func searchTerms(_ text: String) -> [String] {
        let all = terms(text)
        let content = all.filter { !stopWords.contains($0.lowercased()) }
        return content.isEmpty ? all : content
    }

    /// `"a" OR "b" …` for the unicode61 table, or nil when the text has no word.
    static func wordQuery(_ text: String) -> String? {
        let t = searchTerms(text)
        return t.isEmpty ? nil : t.map(quoted).joined(separator: " OR ")
    }

    /// For the trigram table: every run of 3+ characters is cut into overlapping trigrams (so a
    /// CJK sentence matches passages sharing parts of it, ranked by BM25); shorter runs are
    /// returned separately for substring (LIKE) matching, which trigram MATCH cannot do.
    static func trigramQuery(_ text: String) -> (match: String?, short: [String]) {
        var grams: [String] = [], seen: Set<String> = [], short: [String] = []
        for term in terms(text) {
            let chars = Array(term)
            if chars.count < 3 { short.append(term); continue }
            for i in 0...(chars.count - 3) {
                let gram = String(chars[i..<i + 3])
                if seen.insert(gram.lowercased()).inserted { grams.append(gram) }
            }
        }
        let match = grams.isEmpty ? nil : grams.prefix(4 * maxTerms).map(quoted).joined(separator: " OR ")
        return (match, short)
    }

    /// `%term%` for LIKE with `\` as the escape character.
    static func likePattern(_ term: String) -> String {
        var out = "%"
        for ch in term {
            if ch == "%" || ch == "_" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "%"
    }
}
