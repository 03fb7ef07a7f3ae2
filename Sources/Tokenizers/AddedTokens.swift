/// Special / added tokens (`[CLS]`, `<|im_start|>` …) that are cut out of the raw text before any
/// normalisation or pre-tokenisation, leftmost-longest, as Hugging Face tokenizers does.
struct AddedToken: Sendable, Equatable {
    var content: String
    var id: Int
    var special: Bool
}

/// One piece of input text: either plain text (a range of scalars) or an added token's id.
enum TextSegment: Equatable {
    case text(Range<Int>)
    case token(Int, Range<Int>)
}

struct AddedTokenMatcher: Sendable {
    private let tokens: [(scalars: [UInt32], id: Int)]
    private let firstScalars: Set<UInt32>

    init(_ added: [AddedToken]) {
        let nonEmpty = added.filter { !$0.content.isEmpty }
        tokens = nonEmpty.map { (Array($0.content.unicodeScalars.map(\.value)), $0.id) }
        firstScalars = Set(tokens.compactMap { $0.scalars.first })
    }

    var isEmpty: Bool { tokens.isEmpty }

    /// Splits `scalars` into text ranges and added tokens.
    func split(_ scalars: [UInt32]) -> [TextSegment] {
        if tokens.isEmpty { return scalars.isEmpty ? [] : [.text(0..<scalars.count)] }
        var segments: [TextSegment] = []
        var textStart = 0
        var i = 0
        while i < scalars.count {
            guard firstScalars.contains(scalars[i]), let (id, length) = longestMatch(scalars, at: i) else {
                i += 1
                continue
            }
            if textStart < i { segments.append(.text(textStart..<i)) }
            segments.append(.token(id, i..<(i + length)))
            i += length
            textStart = i
        }
        if textStart < scalars.count { segments.append(.text(textStart..<scalars.count)) }
        return segments
    }

    private func longestMatch(_ scalars: [UInt32], at start: Int) -> (Int, Int)? {
        var best: (Int, Int)? = nil
        for token in tokens where token.scalars.count <= scalars.count - start && token.scalars.count > (best?.1 ?? 0) {
            var matches = true
            for k in 0..<token.scalars.count where scalars[start + k] != token.scalars[k] {
                matches = false
                break
            }
            if matches { best = (token.id, token.scalars.count) }
        }
        return best
    }
}
