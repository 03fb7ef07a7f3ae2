/// The split of text into pre-tokens before byte-level BPE, written by hand on Unicode scalars.
/// GPT-2's pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
/// optionally after isolating every \p{N} character (SmolLM2: HF `Digits(individual_digits)`,
/// llama.cpp `tokenizer.ggml.pre = smollm`).
public struct BPEPreTokenizer: Sendable, Equatable {
    public var splitDigitsIndividually: Bool

    public init(splitDigitsIndividually: Bool) { self.splitDigitsIndividually = splitDigitsIndividually }

    public static let gpt2 = BPEPreTokenizer(splitDigitsIndividually: false)
    public static let smollm = BPEPreTokenizer(splitDigitsIndividually: true)

    /// From llama.cpp's `tokenizer.ggml.pre` name.
    public init(ggmlPre name: String) throws {
        switch name {
        case "smollm": self = .smollm
        case "gpt2", "default", "gpt-2": self = .gpt2
        default: throw TokenizerError.unsupported(path: "GGUF metadata", field: "tokenizer.ggml.pre", value: name)
        }
    }

    /// Calls `piece` with each pre-token range of `s[range]`.
    func split(_ s: [UInt32], _ range: Range<Int>, _ piece: (Range<Int>) -> Void) {
        guard splitDigitsIndividually else { return splitGPT2(s, range, piece) }
        var runStart = range.lowerBound
        for i in range where UnicodeClasses.isNumber(s[i]) {
            if runStart < i { splitGPT2(s, runStart..<i, piece) }
            piece(i..<(i + 1))
            runStart = i + 1
        }
        if runStart < range.upperBound { splitGPT2(s, runStart..<range.upperBound, piece) }
    }

    private func splitGPT2(_ s: [UInt32], _ range: Range<Int>, _ piece: (Range<Int>) -> Void) {
        let hi = range.upperBound
        var i = range.lowerBound
        let apostrophe: UInt32 = 0x27, space: UInt32 = 0x20
        while i < hi {
            let c = s[i]
            if c == apostrophe && i + 1 < hi {  // 's 't 'm 'd 're 've 'll
                let n1 = s[i + 1]
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 { piece(i..<(i + 2)); i += 2; continue }
                if i + 2 < hi {
                    let n2 = s[i + 2]
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        piece(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            let j = (c == space && i + 1 < hi) ? i + 1 : i  // after the optional leading space
            let d = s[j]
            var end = j
            if UnicodeClasses.isLetter(d) {
                while end < hi && UnicodeClasses.isLetter(s[end]) { end += 1 }
            } else if UnicodeClasses.isNumber(d) {
                while end < hi && UnicodeClasses.isNumber(s[end]) { end += 1 }
            } else if !UnicodeClasses.isWhitespace(d) {
                while end < hi, case let e = s[end], !UnicodeClasses.isWhitespace(e),
                      !UnicodeClasses.isLetter(e), !UnicodeClasses.isNumber(e) { end += 1 }
            } else {  // a whitespace run: all of it at the end, else all but its last character
                end = i
                while end < hi && UnicodeClasses.isWhitespace(s[end]) { end += 1 }
                if end < hi && end - i >= 2 { end -= 1 } else if end < hi { end = i + 1 }
            }
            piece(i..<end)
            i = end
        }
    }
}
