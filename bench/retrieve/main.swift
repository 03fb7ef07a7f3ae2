// bench-retrieve: retrieval latency in-process (the pipeline's search, as `rag search` runs it,
// without HTTP), to set beside bench/server/run.sh's /v1/retrieve figures: the difference is the
// server's overhead. On a SQLite file or a PostgreSQL base; `--recall N` also measures recall@10
// of the vector index against exact search over N questions (chunk texts of the base).
//
//   swift run -c release bench-retrieve --db kb.db|postgres://… [--embedder DIR] [--question "..."]
//       [--k 5] [--mode hybrid] [--runs 200] [--recall 100]

import ArgumentParser
import Foundation
import RAG

struct Options: ParsableArguments {
    @Option(help: "The knowledge base (SQLite file or postgres:// URL).") var db: String
    @Option(help: "Embedder model folder (default: the one the base was built with).") var embedder: String?
    @Option(help: "The question searched for.") var question = "What does the guide say about installation?"
    @Option(help: "Hits per search.") var k = 5
    @Option(help: "vector, lexical or hybrid.") var mode: String = "hybrid"
    @Option(help: "Timed searches.") var runs = 200
    @Option(help: "Questions for recall@10 against exact search (0: skip).") var recall = 0
}
let options = Options.parseOrExit()

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

let db = options.db
let question = options.question
let k = options.k
let runs = max(1, options.runs)
let mode = RetrievalMode(rawValue: options.mode) ?? .hybrid
let recallQuestions = options.recall

do {
    var c = RAGPipeline.Configuration(store: try StoreLocation(db))
    c.embedderPath = options.embedder
    let pipeline = try RAGPipeline.open(c)
    let stats = try await pipeline.stats()
    let options = SearchOptions(k: k, mode: mode)
    for _ in 0..<3 { _ = try await pipeline.search(question, options: options) }  // warm the page cache
    var ms: [Double] = []
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try await pipeline.search(question, options: options)
        ms.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    ms.sort()
    print("in-process search (\(mode.rawValue), k \(k)) on \(stats.chunks) chunks, \(runs) runs, load \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?")):")
    print(String(format: "  requests/s %.1f   p50 %.2f ms   p99 %.2f ms", Double(runs) / (ms.reduce(0, +) / 1000),
                 percentile(ms, 0.5), percentile(ms, 0.99)))

    if recallQuestions > 0 {
        // Questions: chunk texts spread over the base; recall@10 = share of the exact top 10 the index returns.
        let chunks = try pipeline.base.allChunks()
        let step = max(1, chunks.count / recallQuestions)
        var found = 0, wanted = 0
        for chunk in stride(from: 0, to: chunks.count, by: step).prefix(recallQuestions).map({ chunks[$0] }) {
            let q = try pipeline.embedder.embed([chunk.text])[0]
            let exact = Set(try pipeline.base.exactVectorSearch(q, k: 10))
            let got = try pipeline.base.search(mode: .vector, vector: q, text: "", k: 10, allowed: nil).map(\.label)
            found += got.filter { exact.contains($0) }.count
            wanted += exact.count
        }
        print("  recall@10 of the vector index (\(pipeline.base.indexDescription)) against exact search: "
              + String(format: "%.4f over %d questions", Double(found) / Double(max(1, wanted)), min(recallQuestions, chunks.count)))
    }

    // The same search right after another connection (as another process would) has committed:
    // the graph is reloaded first (README, "Several programs on one base"). SQLite only: PostgreSQL
    // has no graph in the process to reload.
    guard let file = c.store.fileURL else { exit(0) }
    let other = try KnowledgeBase(url: file, embedder: pipeline.embedder.identity)
    if let doc = try other.documents().first {
        var after: [Double] = []
        for _ in 0..<max(5, runs / 10) {
            try other.touch(documentID: doc.id, mtimeNanoseconds: doc.mtimeNanoseconds)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await pipeline.search(question, options: options)
            after.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        after.sort()
        print(String(format: "  after another process's commit (graph reloaded): p50 %.2f ms   p99 %.2f ms   (%.1fx the p50 above)",
                     percentile(after, 0.5), percentile(after, 0.99), percentile(after, 0.5) / percentile(ms, 0.5)))
    }
} catch {
    FileHandle.standardError.write(Data("bench-retrieve: \(error)\n".utf8))
    exit(1)
}
