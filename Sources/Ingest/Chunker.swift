/// Splits a document into chunks of at most `targetTokens` tokens, each page or section on its own.
///
/// Each page/section is cut into units: whole paragraphs that fit; a paragraph that does not fit
/// is cut into sentences, a sentence into words, a run without spaces into characters. Units are
/// packed greedily into chunks. Each chunk after the first of a page/section starts with up to
/// `overlapTokens` tokens of whole sentences (else whole words, else characters) from the end of
/// the previous chunk. A chunk's text is exactly the document text between its offsets.
public struct Chunker: Sendable {
    public let counter: any TokenCounter
    public let targetTokens: Int
    public let overlapTokens: Int

    /// `targetTokens` is at least 1; `overlapTokens` is kept within 0...targetTokens / 2.
    public init(counter: any TokenCounter = SimpleTokenCounter(), targetTokens: Int = 256, overlapTokens: Int = 32) {
        self.counter = counter
        self.targetTokens = max(1, targetTokens)
        self.overlapTokens = min(max(0, overlapTokens), max(1, targetTokens) / 2)
    }

    public func chunk(_ document: LoadedDocument) -> [Chunk] {
        var chunks: [Chunk] = []
        var startCursor = ScalarCursor(text: document.text)
        var endCursor = ScalarCursor(text: document.text)
        for segment in document.segments {
            let segmentText = document.text(of: segment)
            for piece in pack(units(of: segmentText), in: document.text) {
                chunks.append(Chunk(documentPath: document.path, index: chunks.count,
                                    text: String(document.text[piece.range]), page: segment.page,
                                    sectionPath: segment.sectionPath,
                                    startOffset: startCursor.offset(of: piece.range.lowerBound),
                                    endOffset: endCursor.offset(of: piece.range.upperBound),
                                    tokenCount: piece.tokens))
            }
        }
        return chunks
    }

    // MARK: Units

    struct Unit {
        let range: Range<String.Index>
        let tokens: Int
    }

    func units(of text: Substring) -> [Unit] {
        var units: [Unit] = []
        for paragraph in TextBoundaries.paragraphs(text) {
            let tokens = counter.countTokens(text[paragraph])
            if tokens <= targetTokens {
                units.append(Unit(range: paragraph, tokens: tokens))
                continue
            }
            for sentence in TextBoundaries.sentences(text[paragraph]) {
                let tokens = counter.countTokens(text[sentence])
                if tokens <= targetTokens {
                    units.append(Unit(range: sentence, tokens: tokens))
                    continue
                }
                for word in TextBoundaries.words(text[sentence]) {
                    let tokens = counter.countTokens(text[word])
                    if tokens <= targetTokens {
                        units.append(Unit(range: word, tokens: tokens))
                    } else {
                        units += characterUnits(text[word])
                    }
                }
            }
        }
        return units
    }

    /// A run without spaces, cut into pieces of whole characters, each the longest that fits the
    /// target by the counter (binary search, so a long run costs O(n log n) counting).
    private func characterUnits(_ run: Substring) -> [Unit] {
        var bounds = Array(run.indices)
        bounds.append(run.endIndex)
        let characters = bounds.count - 1
        let maxCharacters = max(64, targetTokens * 16)  // a piece's length cap, for counters that saturate
        var units: [Unit] = []
        var start = 0
        while start < characters {
            func tokens(_ end: Int) -> Int { counter.countTokens(run[bounds[start]..<bounds[end]]) }
            var end = min(characters, start + maxCharacters)
            var endTokens = tokens(end)
            if endTokens > targetTokens {
                // Largest end in (start, end) whose piece fits; at least one character.
                var lo = start + 1, hi = end - 1
                end = start + 1
                endTokens = tokens(end)
                while lo <= hi {
                    let mid = (lo + hi) / 2
                    let t = tokens(mid)
                    if t <= targetTokens {
                        end = mid
                        endTokens = t
                        lo = mid + 1
                    } else {
                        hi = mid - 1
                    }
                }
            }
            units.append(Unit(range: bounds[start]..<bounds[end], tokens: endTokens))
            start = end
        }
        return units
    }

    // MARK: Packing

    struct Piece {
        let range: Range<String.Index>
        let tokens: Int
    }

    func pack(_ units: [Unit], in text: String) -> [Piece] {
        var pieces: [Piece] = []
        var i = 0
        while i < units.count {
            var overlap: (start: String.Index, tokens: Int)? = nil
            if let previous = pieces.last, overlapTokens > 0 {
                let budget = min(overlapTokens, targetTokens - units[i].tokens)
                if budget > 0 { overlap = overlapStart(text[previous.range], budget: budget) }
            }
            var j = i + 1
            var tokens = (overlap?.tokens ?? 0) + units[i].tokens
            while j < units.count && tokens + units[j].tokens <= targetTokens {
                tokens += units[j].tokens
                j += 1
            }
            // Sums of unit counts are exact for counters that split at spaces and punctuation
            // (WordPiece); for others, check the real text and give back units while over.
            while true {
                let range = (overlap?.start ?? units[i].range.lowerBound)..<units[j - 1].range.upperBound
                let actual = counter.countTokens(text[range])
                if actual <= targetTokens || (j == i + 1 && overlap == nil) {
                    pieces.append(Piece(range: range, tokens: actual))
                    break
                }
                if j > i + 1 { j -= 1 } else { overlap = nil }
            }
            i = j
        }
        return pieces
    }

    /// Where the overlap taken from the end of `previous` begins: the most trailing whole sentences
    /// within `budget` tokens; if even the last sentence is longer, its trailing whole words; if its
    /// last word is longer (text without spaces), trailing characters. Never all of `previous`.
    func overlapStart(_ previous: Substring, budget: Int) -> (start: String.Index, tokens: Int)? {
        let sentences = TextBoundaries.paragraphs(previous).flatMap { TextBoundaries.sentences(previous[$0]) }
        guard let lastSentence = sentences.last else { return nil }
        if let taken = takeFromEnd(sentences, of: previous, budget: budget) { return taken }
        let words = TextBoundaries.words(previous[lastSentence])
        guard let lastWord = words.last else { return nil }
        if let taken = takeFromEnd(words, of: previous, budget: budget) { return taken }
        var characters: [Range<String.Index>] = []
        var i = lastWord.lowerBound
        while i < lastWord.upperBound {
            let next = previous.index(after: i)
            characters.append(i..<next)
            i = next
        }
        return takeFromEnd(characters, of: previous, budget: budget)
    }

    private func takeFromEnd(_ pieces: [Range<String.Index>], of previous: Substring,
                             budget: Int) -> (start: String.Index, tokens: Int)? {
        var taken: (start: String.Index, tokens: Int)? = nil
        var tokens = 0
        for piece in pieces.reversed() {
            if piece.lowerBound == previous.startIndex { break }
            let t = counter.countTokens(previous[piece])
            if tokens + t > budget { break }
            tokens += t
            taken = (piece.lowerBound, tokens)
        }
        return taken
    }
}

/// Turns string indices into Unicode-scalar offsets, walking forward from the last answer
/// (chunk starts and ends both grow, so a document costs one pass per cursor).
struct ScalarCursor {
    let text: String
    private var index: String.Index
    private var offset = 0

    init(text: String) {
        self.text = text
        self.index = text.startIndex
    }

    mutating func offset(of target: String.Index) -> Int {
        offset += text.unicodeScalars.distance(from: index, to: target)
        index = target
        return offset
    }
}
