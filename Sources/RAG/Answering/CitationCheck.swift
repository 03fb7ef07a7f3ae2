import Foundation

/// Checks every citation of an answer against the passages it was given, while the answer streams.
///
/// A small model copies the right fact and then often numbers it wrongly ("… always [1]." when the
/// sentence is passage 3's). Each citation marker is read as the claim of the text it closes (the text
/// since the previous marker; adjacent markers share one claim). The claim's own words, those the
/// question does not already hold (a citation vouches for what the answer adds, not for the restated
/// question), are scored against every passage, each word weighted by how few of the passages hold it
/// (BM25's idf over the passages). A marker that cites none of the best-supported passages, all of whose
/// passages score strictly below the best, is rewritten to cite the best one; ties, and claims sharing
/// no word with any passage, keep the model's numbers. Nothing is tuned: there is no threshold to set.
///
/// An answer that cites nothing at all (the small model often copies a passage's fact and forgets the
/// number) is read as one claim by `citeIfUncited`, after `finish`: it gets the marker of the passage
/// that best supports it, appended, when one passage alone scores best; an answer that declines gets none.
///
/// Streaming: text passes through at once, except from a "[" until its marker is complete (at most
/// `Citations.maxMarkerLength` characters), so a reader never sees a number that is changed later.
public struct CitationCheck {
    private let passages: [(n: Int, words: Set<String>)]
    private let questionWords: Set<String>
    private var pending = ""
    private var claim = ""
    private var lastClaimWords: Set<String> = []
    private var lastShown = ""
    /// The checked answer so far: everything `feed` and `finish` returned.
    public private(set) var text = ""
    /// How many markers were rewritten.
    public private(set) var corrections = 0
    /// Whether `citeIfUncited` appended the answer's only marker.
    public private(set) var added = false
    private var markers = 0

    public init(passages: [Passage], question: String) {
        self.passages = passages.map { ($0.n, Set(AnswerMetrics.normalizedTokens($0.text))) }
        self.questionWords = Set(AnswerMetrics.normalizedTokens(question))
    }

    /// Takes the next piece of generated text; returns what can be shown now.
    public mutating func feed(_ piece: String) -> String {
        pending += piece
        var shown = ""
        while let open = pending.firstIndex(of: "[") {
            shown += pass(String(pending[..<open]))
            let rest = pending[open...]
            if let close = rest.firstIndex(of: "]"), rest.distance(from: open, to: close) <= Citations.maxMarkerLength {
                pending = String(rest[rest.index(after: close)...])
                let checked = check(String(rest[...close]))
                text += checked
                shown += checked
            } else if !rest.contains("]"), rest.count <= Citations.maxMarkerLength {
                pending = String(rest)
                return shown  // the next piece may complete the marker
            } else {
                shown += pass("[")  // not a citation
                pending = String(rest.dropFirst())
            }
        }
        shown += pass(pending)
        pending = ""
        return shown
    }

    /// The end of the answer: whatever was held back, unchanged.
    public mutating func finish() -> String {
        let rest = pass(pending)
        pending = ""
        return rest
    }

    /// The marker to append to an answer that cited nothing (already added to `text`), or "" when it
    /// cited something, declines, or no single passage supports it best.
    public mutating func citeIfUncited() -> String {
        guard markers == 0, !added, !Declining.reads(text) else { return "" }
        let scores = support(of: Set(AnswerMetrics.normalizedTokens(text)).subtracting(questionWords))
        guard let best = scores.map(\.score).max(), best > 0,
              scores.filter({ $0.score == best }).count == 1, let n = scores.first(where: { $0.score == best })?.n else { return "" }
        let marker = (text.last?.isWhitespace ?? true ? "" : " ") + "[\(n)]"
        text += marker
        added = true
        return marker
    }

    private mutating func pass(_ s: String) -> String {
        text += s
        claim += s
        return s
    }

    /// `marker` ("[3]", "[1, 2]") as the answer should show it.
    private mutating func check(_ marker: String) -> String {
        guard let cited = Citations.numbers(inMarker: marker) else {
            claim += marker  // "[sic]", "array[i]": text, not a citation
            return marker
        }
        markers += 1
        let said = Set(AnswerMetrics.normalizedTokens(claim))
        let adjacent = said.isEmpty  // "[1][3]": the second marker closes the same claim
        claim = ""
        if !adjacent { lastClaimWords = said.subtracting(questionWords) }
        guard let best = bestSupported(words: lastClaimWords, cited: cited) else {
            lastShown = marker
            return marker
        }
        corrections += 1
        let shown = "[\(best)]"
        if adjacent && shown == lastShown { return "" }  // "[1][3]" → "[2]", not "[2][2]"
        lastShown = shown
        return shown
    }

    /// The passage to cite instead of `cited`, or nil to keep the model's numbers.
    private func bestSupported(words: Set<String>, cited: [Int]) -> Int? {
        let scores = support(of: words)
        guard let best = scores.map(\.score).max(), best > 0 else { return nil }
        let citedBest = scores.filter { cited.contains($0.n) }.map(\.score).max() ?? -1
        guard citedBest < best else { return nil }
        return scores.first { $0.score == best }?.n
    }

    /// Σ idf(w) over the claim's words that each passage holds; idf as BM25's, over these passages.
    private func support(of words: Set<String>) -> [(n: Int, score: Double)] {
        let count = Double(passages.count)
        var idf: [String: Double] = [:]
        for w in words {
            let df = Double(passages.filter { $0.words.contains(w) }.count)
            if df > 0 { idf[w] = log(1 + (count - df + 0.5) / (df + 0.5)) }
        }
        return passages.map { p in (p.n, idf.reduce(0) { $0 + (p.words.contains($1.key) ? $1.value : 0) }) }
    }
}
