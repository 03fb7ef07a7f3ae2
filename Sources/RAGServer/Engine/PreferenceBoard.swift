import Foundation
import RAG

/// The preferences file the server's ranking page works on (`--prefs FILE`, written by
/// `rag prefs collect`). One writer at a time; the file on disk is the only state, so rankings
/// given in the terminal and on the page meet in the same file.
actor PreferenceBoard {
    let url: URL

    init(url: URL) { self.url = url }

    func progress() throws -> PreferenceFile.Progress {
        PreferenceFile.progress(of: try PreferenceFile.read(url))
    }

    func record(_ index: Int) throws -> CandidateSet? {
        let sets = try PreferenceFile.read(url)
        return sets.indices.contains(index) ? sets[index] : nil
    }

    func rank(_ index: Int, ranking: [Int]) throws -> CandidateSet {
        try PreferenceFile.recordRanking(ranking, at: index, in: url)
    }

    /// The ranked records, as `rag finetune dpo|rm --data` reads them.
    func trainingRecords() throws -> [CandidateSet] {
        PreferenceFile.trainable(try PreferenceFile.read(url))
    }
}
