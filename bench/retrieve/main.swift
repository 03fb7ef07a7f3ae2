// bench-retrieve: retrieval latency in-process (the pipeline's search, as `rag search` runs it,
// without HTTP), to set beside bench/server/run.sh's /v1/retrieve figures: the difference is the
// server's overhead.
//
//   swift run -c release bench-retrieve --db kb.db [--embedder DIR] [--question "..."] [--k 5]
//       [--mode hybrid] [--runs 200]

import Foundation
import RAG

func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

guard let db = option("--db") else {
    FileHandle.standardError.write(Data("usage: bench-retrieve --db FILE [--embedder DIR] [--question Q] [--k 5] [--mode hybrid] [--runs 200]\n".utf8))
    exit(2)
}
let question = option("--question") ?? "What does the guide say about installation?"
let k = Int(option("--k") ?? "5") ?? 5
let runs = max(1, Int(option("--runs") ?? "200") ?? 200)
let mode = option("--mode").flatMap(RetrievalMode.init(rawValue:)) ?? .hybrid

do {
    var c = RAGPipeline.Configuration(database: URL(fileURLWithPath: db))
    c.embedderPath = option("--embedder")
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
