/// Turns generated ids into text as soon as whole UTF-8 characters are available: a token may end
/// in the middle of a character (emoji, CJK), whose remaining bytes arrive with later tokens.
public struct BPEStreamingDecoder: Sendable {
    private let tokenizer: BPETokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: BPETokenizer, skipSpecial: Bool = true) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Text completed by `id` (possibly empty).
    public mutating func push(_ id: Int) -> String {
        tokenizer.appendBytes(of: id, skipSpecial: skipSpecial, to: &pending)
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[0..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Whatever is left at the end of generation (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside an unfinished multi-byte sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var back = 1
        while back <= min(3, n) {  // find the last lead byte among the final three bytes
            let b = bytes[n - back]
            if b & 0xC0 != 0x80 {
                let needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
                return needed > back && b >= 0xC0 && b < 0xF8 ? n - back : n
            }
            back += 1
        }
        return n  // only continuation bytes at the end: invalid anyway, let them through
    }
}
