import Foundation

/// Normalised text: Unicode NFC; each run of whitespace becomes one space, except that a blank line
/// (two or more line breaks) becomes the paragraph break "\n\n" the chunker splits at; control and
/// invisible format characters are dropped, except that where dropping one would join pieces into
/// a control-token spelling (`<|im_\u{200B}start|>`) a space stays in its place (MarkerSpelling);
/// no leading or trailing whitespace.
enum TextNormalizer {
    static let paragraphBreak = "\n\n"

    static func normalize(_ text: String) -> String {
        let isASCII = text.utf8.allSatisfy { $0 < 0x80 }
        let composed = isASCII ? text : text.precomposedStringWithCanonicalMapping
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var newlines = 0
        var pendingSpace = false
        var previousWasCR = false
        var dropped = false       // a character was dropped since the last one kept
        var joins: [Int] = []     // offsets in `out` where a dropped character joined its neighbours
        func separate() {
            if dropped && newlines == 0 && !pendingSpace && !out.isEmpty { joins.append(out.count) }
            dropped = false
            if !out.isEmpty {
                if newlines >= 2 {
                    out.append(0x0A)
                    out.append(0x0A)
                } else if newlines == 1 || pendingSpace {
                    out.append(0x20)
                }
            }
            newlines = 0
            pendingSpace = false
        }

        func emit(_ byte: UInt8) {
            separate()
            out.append(byte)
        }

        for scalar in composed.unicodeScalars {
            let wasCR = previousWasCR
            previousWasCR = scalar == "\r"
            let v = scalar.value
            if v < 0x80 {  // ASCII: no property lookups
                switch v {
                case 0x0A: if !wasCR { newlines += 1 }
                case 0x0D, 0x0B, 0x0C: newlines += 1
                case 0x20, 0x09: pendingSpace = true
                case 0x00..<0x20, 0x7F: dropped = true  // other controls are dropped
                default: emit(UInt8(v))
                }
                continue
            }
            switch v {
            case 0x85, 0x2028: newlines += 1
            case 0x2029: newlines += 2  // paragraph separator
            case 0xAD, 0x200B, 0xFEFF, 0x2060: dropped = true  // soft hyphen, zero-width space, BOM, word joiner
            default:
                if scalar.properties.isWhitespace {
                    pendingSpace = true
                } else if scalar.properties.generalCategory != .control {
                    separate()
                    UTF8.encode(scalar) { out.append($0) }
                } else {
                    dropped = true
                }
            }
        }
        if !joins.isEmpty { out = MarkerSpelling.separatingMarkers(out, joins: joins) }
        return String(decoding: out, as: UTF8.self)
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
                let stem = head.dropLast(), joined = String(stem) + trimmed
                if let first = trimmed.first, first.isLetter, first.isLowercase,
                   !MarkerSpelling.joinsMarker(Array(joined.utf8), at: stem.utf8.count) {  // "<|im_sta-" + "rt|>" stays apart
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
