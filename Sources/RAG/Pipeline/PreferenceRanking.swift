// A person's ranking recorded into a preferences file, the rule shared by `rag prefs rank` in the
// terminal and the server's ranking page: the record must exist, the ranking must name each
// candidate once, and the file is rewritten whole (renamed into place) so no ranking is lost.

import Foundation

extension PreferenceFile {
    /// Where ranking stands in a preferences file: how many records, how many ranked, and the
    /// first one still waiting for a ranking.
    public struct Progress: Sendable, Equatable, Codable {
        public var total: Int
        public var ranked: Int
        public var next: Int?
    }

    public static func progress(of sets: [CandidateSet]) -> Progress {
        Progress(total: sets.count, ranked: sets.filter(\.isRanked).count, next: sets.firstIndex { !$0.isRanked })
    }

    /// Stores `ranking` (response indices, best first) as record `index`'s ranking by a person
    /// (replacing a judge's verdict) and returns the record.
    @discardableResult
    public static func recordRanking(_ ranking: [Int], at index: Int, in url: URL) throws -> CandidateSet {
        var sets = try read(url)
        guard sets.indices.contains(index) else {
            throw RAGError.invalidInput("\(url.lastPathComponent) has no record \(index) (it holds \(sets.count), numbered from 0)")
        }
        let n = sets[index].responses.count
        guard ranking.count == n, Set(ranking) == Set(0..<n) else {
            throw RAGError.invalidInput("a ranking must list each of the \(n) candidates 0…\(n - 1) once, best first (got \(ranking))")
        }
        sets[index].ranking = ranking
        sets[index].pairs = nil
        sets[index].scores = nil
        sets[index].judge = nil
        try write(sets, to: url)
        return sets[index]
    }
}
