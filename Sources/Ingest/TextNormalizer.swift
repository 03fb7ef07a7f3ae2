import Foundation

/// Normalised text: Unicode NFC; each run of whitespace becomes one space, except that a blank line
/// (two or more line breaks) becomes the paragraph break "\n\n" the chunker splits at; control and
/// invisible format characters are dropped; no leading or trailing whitespace.
enum TextNormalizer {
    static let paragraphBreak = "\n\n"

    static func normalize(_ text: String) -> String {
        let composed = text.precomposedStringWithCanonicalMapping
        var out = String.UnicodeScalarView()
        var newlines = 0
        var pendingSpace = false
        var previousWasCR = false
        for scalar in composed.unicodeScalars {
            let wasCR = previousWasCR
            previousWasCR = scalar == "\r"
            switch scalar {
            case "\n":
                if !wasCR { newlines += 1 }
                continue
            case "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}":
                newlines += 1
                continue
            case "\u{2029}":  // paragraph separator
                newlines += 2
                continue
            case "\u{AD}", "\u{200B}", "\u{FEFF}", "\u{2060}":  // soft hyphen, zero-width space, BOM, word joiner
                continue
            default:
                break
            }
            if scalar.properties.isWhitespace {
                pendingSpace = true
                continue
            }
            if scalar.properties.generalCategory == .control { continue }
            if !out.isEmpty {
                if newlines >= 2 {
                    out.append("\n")
                    out.append("\n")
                } else if newlines == 1 || pendingSpace {
                    out.append(" ")
                }
            }
            newlines = 0
            pendingSpace = false
            out.append(scalar)
        }
        return String(out)
    }

    /// Joins words broken across lines with a hyphen: "retrie-" + "val" → "retrieval".
    /// Only when a letter precedes the hyphen and the next line starts with a lower-case letter,
    /// so "X-" / "Ray" and list dashes stay as they are.
    static func dehyphenate(_ lines: [String]) -> [String] {
        var out: [String] = []
        out.reserveCapacity(lines.count)
        var carry: String? = nil  // a line ending in a broken word, waiting for its continuation
        for line in lines {
            if let head = carry {
                carry = nil
                let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
                if let first = trimmed.first, first.isLetter, first.isLowercase {
                    let joined = String(head.dropLast()) + trimmed
                    if endsWithBrokenWord(joined) { carry = joined } else { out.append(joined) }
                    continue
                }
                out.append(head)
            }
            if endsWithBrokenWord(line) { carry = line } else { out.append(line) }
        }
        if let head = carry { out.append(head) }
        return out
    }

    private static func endsWithBrokenWord(_ line: String) -> Bool {
        guard let last = line.last, last == "-" || last == "\u{2010}" || last == "\u{AD}" else { return false }
        let beforeHyphen = line.dropLast().last
        return beforeHyphen?.isLetter == true
    }
}
