// bench-retrieve: retrieval latency in-process (the pipeline's search, as `rag search` runs it,
// without HTTP), to set beside bench/server/run.sh's /v1/retrieve figures: the difference is the
// server's overhead.
//
//   swift run -c release bench-retrieve --db kb.db [--embedder DIR] [--question "..."] [--k 5]
//       [--mode hybrid] [--runs 200]

import ArgumentParser
import Foundation
import RAG

struct Options: ParsableArguments {
    @Option(help: "The knowledge base (SQLite file).") var db: String
    @Option(help: "Embedder model folder (default: the one the base was built with).") var embedder: String?
    @Option(help: "The question searched for.") var question = "What does the guide say about installation?"
    @Option(help: "Hits per search.") var k = 5
    @Option(help: "vector, lexical or hybrid.") var mode: String = "hybrid"
    @Option(help: "Timed searches.") var runs = 200
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

do {
    var c = RAGPipeline.Configuration(database: URL(fileURLWithPath: db))
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

    // The same search right after another connection (as another process would) has committed:
    // the graph is reloaded first (README, "Several programs on one base").
    let other = try KnowledgeBase(url: c.database, embedder: pipeline.embedder.identity)
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
