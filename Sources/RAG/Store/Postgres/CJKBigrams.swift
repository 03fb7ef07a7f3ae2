import VectorIndex

/// Chinese, Japanese and Korean text on PostgreSQL's full-text search. Their words are not
/// separated by spaces, so PostgreSQL's parser keeps a whole run as one token and a question could
/// only match a passage that holds its exact run. (The SQLite base searches such text by
/// trigrams.) Here each CJK run is cut into overlapping character bigrams, written into the chunk's
/// `tsvector` beside its words, and a question's CJK runs are cut the same way; most Chinese words
/// are two characters, so a bigram is the unit that matches. "生成温度" → 生成 成温 温度.
enum CJKBigrams {
    /// The bigrams of every CJK run of `text`, separated by spaces (empty when there is none).
    static func documentText(_ text: String) -> String {
        runs(of: text).flatMap(bigrams).joined(separator: " ")
    }

    /// The pieces a query word is searched by: a word without CJK as it is (lower case); a word
    /// with CJK as the bigrams of its CJK runs and its other runs as words.
    static func queryPieces(_ word: String) -> [String] {
        guard word.unicodeScalars.contains(where: LexicalIndex.isCJK) else { return [word.lowercased()] }
        var others: [String] = [], current = String.UnicodeScalarView()
        for scalar in word.unicodeScalars {
            if !LexicalIndex.isCJK(scalar) { current.append(scalar) } else if !current.isEmpty { others.append(String(current)); current = .init() }
        }
        if !current.isEmpty { others.append(String(current)) }
        return others.map { $0.lowercased() } + runs(of: word).flatMap(bigrams)
    }

    /// The SQL of a chunk's lexemes: its words as written and stemmed, and its CJK bigrams.
    static func lexemesSQL(text: String, bigrams: String, language: String) -> String {
        "to_tsvector('simple', \(text)) || to_tsvector('\(language)', \(text)) || to_tsvector('simple', \(bigrams))"
    }

    /// Maximal runs of CJK characters.
    private static func runs(of text: String) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = [], current: [Unicode.Scalar] = []
        for scalar in text.unicodeScalars {
            if LexicalIndex.isCJK(scalar) { current.append(scalar) } else if !current.isEmpty { out.append(current); current = [] }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    private static func bigrams(_ run: [Unicode.Scalar]) -> [String] {
        guard run.count > 1 else { return run.map { String($0) } }
        return (0..<(run.count - 1)).map { i in
            var s = String.UnicodeScalarView()
            s.append(run[i]); s.append(run[i + 1])
            return String(s)
        }
    }
}
