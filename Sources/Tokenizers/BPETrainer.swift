// Training a byte-level BPE tokenizer (Sennrich et al. 2016; GPT-2's byte-level variant) on text:
// the text is cut into pre-tokens as the tokenizer will cut it (GPT-2's rules, digits one by one as
// SmolLM2 does), each pre-token is a word of bytes, and the most frequent adjacent pair of symbols
// is merged again and again until the vocabulary has the size asked for. The result is an ordinary
// BPETokenizer, written as tokenizer.json by `tokenizerJSON()`.
//
// Pair counts are kept up to date incrementally (only the words that contain the merged pair are
// re-counted) and the best pair is taken from a max-heap whose stale entries are skipped, so a
// merge costs what it changes, not a pass over every pair.

import Foundation

public struct BPETrainer: Sendable {
    /// The vocabulary size to reach: special tokens + 256 bytes + merges.
    public var vocabSize: Int
    /// A pair must occur at least this often to be merged.
    public var minFrequency: Int = 2
    /// Special (added) tokens, first in the vocabulary; the first is the end of text.
    public var specialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    public var preTokenizer: BPEPreTokenizer = .smollm

    public init(vocabSize: Int) { self.vocabSize = vocabSize }

    public func train(_ texts: [String]) throws -> BPETokenizer {
        let base = specialTokens.count + 256
        guard vocabSize >= base else {
            throw TokenizerError.invalidField(path: "training", field: "vocab-size",
                                              reason: "\(vocabSize) is below the \(base) tokens every byte-level vocabulary starts with")
        }
        guard minFrequency >= 1 else { throw TokenizerError.invalidField(path: "training", field: "min-frequency", reason: "must be at least 1") }
        guard Set(specialTokens).count == specialTokens.count, !specialTokens.contains("") else {
            throw TokenizerError.invalidField(path: "training", field: "special tokens", reason: "must be distinct and non-empty")
        }

        // Words: each distinct pre-token as symbol ids (bytes: ids specials.count + byte), with its count.
        var wordIndex: [[UInt8]: Int] = [:]
        var words: [[Int32]] = [], counts: [Int] = []
        for text in texts {
            let scalars = Array(text.unicodeScalars.map(\.value))
            preTokenizer.split(scalars, 0..<scalars.count) { range in
                var bytes: [UInt8] = []
                for v in scalars[range] {
                    guard let u = Unicode.Scalar(v) else { continue }
                    bytes.append(contentsOf: Array(String(Character(u)).utf8))
                }
                if let i = wordIndex[bytes] { counts[i] += 1; return }
                wordIndex[bytes] = words.count
                words.append(bytes.map { Int32(specialTokens.count + Int($0)) })
                counts.append(1)
            }
        }

        var tokens = specialTokens + (0..<256).map { ByteLevel.tokenString(ofByte: UInt8($0)) }
        var merges: [(String, String)] = []
        var pairCount: [UInt64: Int] = [:]
        var pairWords: [UInt64: Set<Int>] = [:]
        for (w, symbols) in words.enumerated() where symbols.count > 1 {
            for (a, b) in zip(symbols, symbols.dropFirst()) {
                let key = BPEMerges.key(a, b)
                pairCount[key, default: 0] += counts[w]
                pairWords[key, default: []].insert(w)
            }
        }
        var known = Set(tokens)
        var heap = BinaryHeap<PairCandidate>()
        for (key, n) in pairCount { heap.push(PairCandidate(n, key, tokens: tokens)) }

        while tokens.count < vocabSize {
            guard let best = heap.popCurrent(pairCount), best.n >= minFrequency else { break }
            let key = best.key
            let a = Int32(truncatingIfNeeded: key >> 32), b = Int32(truncatingIfNeeded: key & 0xFFFF_FFFF)
            let text = tokens[Int(a)] + tokens[Int(b)]
            // A merge that would spell an existing token (a special token's text) is never made.
            guard known.insert(text).inserted else { pairCount[key] = nil; continue }
            let merged = Int32(tokens.count)
            tokens.append(text)
            merges.append((tokens[Int(a)], tokens[Int(b)]))
            var changed = Set<UInt64>()
            for w in pairWords[key] ?? [] {
                let old = words[w]
                var new: [Int32] = []
                new.reserveCapacity(old.count)
                var i = 0
                while i < old.count {
                    if i + 1 < old.count, old[i] == a, old[i + 1] == b { new.append(merged); i += 2 } else { new.append(old[i]); i += 1 }
                }
                guard new.count != old.count else { continue }
                for (x, y) in zip(old, old.dropFirst()) {
                    let k = BPEMerges.key(x, y)
                    pairCount[k, default: 0] -= counts[w]
                    changed.insert(k)
                }
                for (x, y) in zip(new, new.dropFirst()) {
                    let k = BPEMerges.key(x, y)
                    pairCount[k, default: 0] += counts[w]
                    pairWords[k, default: []].insert(w)
                    changed.insert(k)
                }
                words[w] = new
            }
            pairCount[key] = nil
            pairWords[key] = nil
            for k in changed where k != key {
                if let n = pairCount[k], n > 0 { heap.push(PairCandidate(n, k, tokens: tokens)) } else { pairCount[k] = nil }
            }
        }

        let added = specialTokens.enumerated().map { AddedToken(content: $1, id: $0, special: true) }
        return try BPETokenizer(tokens: tokens, mergePairs: merges, added: added,
                                special: SpecialTokenIDs(bos: nil, eos: 0, unknown: nil, padding: nil),
                                preTokenizer: preTokenizer, addBOS: false, source: "training")
    }
}

/// A candidate merge as the heap orders it: the highest count first, ties to the pair whose
/// merged text sorts first (so training is deterministic). Entries whose count has changed since
/// they were pushed are skipped when popped.
private struct PairCandidate: Comparable {
    let n: Int
    let key: UInt64
    let text: String

    init(_ n: Int, _ key: UInt64, tokens: [String]) {
        self.n = n
        self.key = key
        text = tokens[Int(key >> 32)] + "\u{0}" + tokens[Int(key & 0xFFFF_FFFF)]
    }

    static func < (x: PairCandidate, y: PairCandidate) -> Bool {
        x.n != y.n ? x.n > y.n : (x.text != y.text ? x.text < y.text : x.key < y.key)
    }
}

extension BinaryHeap where Element == PairCandidate {
    /// The best candidate whose count is still current (stale entries are dropped).
    fileprivate mutating func popCurrent(_ counts: [UInt64: Int]) -> PairCandidate? {
        while let top = pop() {
            if counts[top.key] == top.n { return top }
        }
        return nil
    }
}
