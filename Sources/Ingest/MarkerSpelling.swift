/// Spans of text that spell a model's control token: `<|im_start|>`, `<|eot_id|>` (ChatML and
/// Llama-3 style), `[CLS]`, `[SEP]`, `[MASK]` (BERT), `<s>`, `</s>`, `<file_sep>`. Cleanup drops
/// invisible characters and joins hyphenated lines; where that would join pieces into such a
/// spelling ("<|im_\u{200B}start|>" → "<|im_start|>"), it keeps a space there instead, so the
/// stored text never holds a marker its source did not. (Stored text is tokenised as text
/// anyway; this keeps what is stored and shown what the document said.)
enum MarkerSpelling {
    /// Byte ranges of marker spellings in `bytes` (UTF-8).
    static func spans(in bytes: [UInt8]) -> [Range<Int>] {
        var spans: [Range<Int>] = []
        var i = 0
        while i < bytes.count {
            if let end = markerEnd(bytes, from: i) {
                spans.append(i..<end)
                i = end
            } else {
                i += 1
            }
        }
        return spans
    }

    /// Whether joining at byte `offset` of `bytes` lies strictly inside a marker spelling.
    static func joinsMarker(_ bytes: [UInt8], at offset: Int) -> Bool {
        spans(in: bytes).contains { $0.lowerBound < offset && offset < $0.upperBound }
    }

    /// `bytes` with a space inserted at each join offset that lies inside a marker spelling.
    static func separatingMarkers(_ bytes: [UInt8], joins: [Int]) -> [UInt8] {
        let spans = spans(in: bytes)
        guard !spans.isEmpty else { return bytes }
        var out = bytes
        for offset in joins.sorted(by: >) where spans.contains(where: { $0.lowerBound < offset && offset < $0.upperBound }) {
            out.insert(0x20, at: offset)
        }
        return out
    }

    /// End of a marker spelling starting at `start`, if one does.
    private static func markerEnd(_ b: [UInt8], from start: Int) -> Int? {
        let n = b.count
        switch b[start] {
        case UInt8(ascii: "<"):
            // <|name|>: 1…64 bytes without space, `|`, `<`, `>` between the bars
            if start + 1 < n, b[start + 1] == UInt8(ascii: "|") {
                var j = start + 2
                while j < n, j - start - 2 < 64, !isSpace(b[j]), b[j] != UInt8(ascii: "|"), b[j] != UInt8(ascii: "<"), b[j] != UInt8(ascii: ">") { j += 1 }
                if j > start + 2, j + 1 < n, b[j] == UInt8(ascii: "|"), b[j + 1] == UInt8(ascii: ">") { return j + 2 }
                return nil
            }
            // <s>, </s>, <file_sep>: a lower-case word of 1…32 letters, digits or `_`
            var j = start + 1
            if j < n, b[j] == UInt8(ascii: "/") { j += 1 }
            let nameStart = j
            while j < n, j - nameStart < 32, isLowerWordByte(b[j]) { j += 1 }
            if j > nameStart, j < n, b[j] == UInt8(ascii: ">") { return j + 1 }
            return nil
        case UInt8(ascii: "["):
            // [CLS], [SEP], [MASK], [PAD], [UNK]: 2…10 upper-case letters
            var j = start + 1
            while j < n, j - start - 1 < 10, b[j] >= UInt8(ascii: "A"), b[j] <= UInt8(ascii: "Z") { j += 1 }
            if j - start - 1 >= 2, j < n, b[j] == UInt8(ascii: "]") { return j + 1 }
            return nil
        default:
            return nil
        }
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D }

    private static func isLowerWordByte(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
    }
}
