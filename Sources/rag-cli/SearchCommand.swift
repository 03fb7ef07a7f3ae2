import ArgumentParser
import Foundation
import RAG

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "search", abstract: "Find the passages that match a question.")

    @Argument(help: "The question or search terms.")
    var query: String

    @OptionGroup var base: BaseOptions
    @OptionGroup var retrieval: RetrievalOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws { _ = try retrieval.search(for: .search) }

    struct Output: Encodable { var hits: [SearchHit] }

    func run() async throws {
        let pipeline = try RAGPipeline.open(base.existing())
        let hits = try await pipeline.search(query, options: try retrieval.search(for: .search))
        if json { try Console.json(Output(hits: hits)); return }
        if hits.isEmpty { Console.out("no matches"); return }
        for (i, h) in hits.enumerated() {
            var where_ = h.file
            if let p = h.page { where_ += ", page \(p)" }
            if let s = h.section { where_ += ", \(s)" }
            Console.out("\(i + 1). \(where_)  (score \(String(format: "%.4f", h.score)))")
            let text = h.text.replacingOccurrences(of: "\n", with: " ")
            Console.out("   " + (text.count > 300 ? String(text.prefix(300)) + "…" : text))
        }
    }
}
