import Foundation
import Tensor

/// A chunk of the knowledge base, as the ingest pipeline produces it.
public struct ChunkRecord: Sendable, Equatable {
    public var text: String
    public var sectionTitle: String?
    public var page: Int?
    public var documentPath: String

    public init(text: String, sectionTitle: String? = nil, page: Int? = nil, documentPath: String) {
        self.text = text; self.sectionTitle = sectionTitle; self.page = page; self.documentPath = documentPath
    }
}

/// Self-supervised (query, positive) pairs from chunks, with no labels:
/// - a section's title -> the section's text,
/// - one sentence of a chunk -> the chunk with that sentence removed (inverse cloze task),
/// - the first line(s) of a PDF page -> the rest of the page's first chunk.
/// Deterministic for a given seed; whole chunks go to the held-out split, so no text of an
/// evaluation pair was seen in training.
public struct PairMiner: Sendable {
    public var seed: UInt64
    /// Fraction of chunks whose pairs are held out for evaluation.
    public var heldOutFraction: Double
    /// Shortest sentence (in words) used as a query.
    public var minimumQueryWords: Int

    public init(seed: UInt64 = 0, heldOutFraction: Double = 0.1, minimumQueryWords: Int = 4) {
        self.seed = seed; self.heldOutFraction = heldOutFraction; self.minimumQueryWords = minimumQueryWords
    }

    public func pairs(from chunks: [ChunkRecord]) -> (train: [TrainingPair], heldOut: [TrainingPair]) {
        var rng = TensorRNG(seed: seed)
        var firstChunkOfPage = Set<String>()
        var train: [TrainingPair] = [], heldOut: [TrainingPair] = []
        for chunk in chunks {
            let text = chunk.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { continue }
            var mined: [TrainingPair] = []
            if let title = chunk.sectionTitle?.trimmingCharacters(in: .whitespacesAndNewlines), !title.isEmpty, title != text {
                mined.append(TrainingPair(query: title, positive: text))
            }
            let sentences = Self.sentences(of: text)
            let candidates = sentences.indices.filter { Self.wordCount(sentences[$0]) >= minimumQueryWords }
            if sentences.count >= 3, !candidates.isEmpty {
                let pick = candidates[Int(rng.next() % UInt64(candidates.count))]
                let rest = sentences.enumerated().filter { $0.offset != pick }.map(\.element).joined(separator: " ")
                mined.append(TrainingPair(query: sentences[pick], positive: rest))
            }
            if let page = chunk.page, firstChunkOfPage.insert("\(chunk.documentPath)#\(page)").inserted,
               let split = Self.leadingLines(of: text, minimumWords: minimumQueryWords) {
                mined.append(TrainingPair(query: split.head, positive: split.rest))
            }
            if rng.uniform() < Float(heldOutFraction) { heldOut += mined } else { train += mined }
        }
        return (train, heldOut)
    }

    /// Sentences split after . ! ? (followed by white space) and after 。！？.
    static func sentences(of text: String) -> [String] {
        var result: [String] = []
        var current = ""
        let chars = Array(text)
        for (i, ch) in chars.enumerated() {
            current.append(ch)
            let next = i + 1 < chars.count ? chars[i + 1] : " "
            let ends = "。！？".contains(ch) || (".!?".contains(ch) && next.isWhitespace)
            if ends {
                let s = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !s.isEmpty { result.append(s) }
                current = ""
            }
        }
        let tail = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty { result.append(tail) }
        return result
    }

    static func wordCount(_ s: String) -> Int {
        // CJK text has no spaces: count its characters as words.
        let words = s.split(whereSeparator: \.isWhitespace).count
        let cjk = s.unicodeScalars.filter { (0x4E00...0x9FFF).contains($0.value) }.count
        return max(words, cjk / 2)
    }

    /// The first non-empty lines (until they hold `minimumWords` words, at most 3 lines) and the rest.
    static func leadingLines(of text: String, minimumWords: Int) -> (head: String, rest: String)? {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var taken = 0, words = 0
        while taken < min(lines.count, 3) && words < minimumWords {
            words += wordCount(lines[taken]); taken += 1
        }
        guard taken < lines.count, words >= minimumWords else { return nil }
        let rest = lines[taken...].joined(separator: "\n")
        guard wordCount(rest) >= minimumWords else { return nil }
        return (lines[..<taken].joined(separator: " "), rest)
    }
}
