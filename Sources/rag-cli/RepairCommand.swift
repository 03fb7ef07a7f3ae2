import ArgumentParser
import Foundation
import RAG

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Rebuild the vector graph and full-text index from the stored chunks (re-embedding chunks whose vector is missing).")

    @OptionGroup var base: BaseOptions

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let c = try base.existing()
        guard let file = c.store.fileURL else { throw RAGError.invalidInput(StoreLocation.postgresMaintenance("rag repair")) }
        let embedder = try ModelFactory.embedder(path: c.embedderPath, models: c.models)
        let report = try KnowledgeBase.repair(url: file, with: embedder) { done, total in
            if Console.stderrIsTTY { Console.err("\rre-embedded \(done)/\(total) chunks", terminator: done == total ? "\n" : "") }
        }
        let problems = try KnowledgeBase.check(url: file)
        if json { try Console.json(report) } else {
            Console.out("repaired \(file.path): \(report.chunks) chunks, \(report.vectorsKept) vectors kept, \(report.reembedded) re-embedded, "
                        + "\(report.vectorsDropped) stale vectors dropped, \(report.orphanChunksRemoved) orphan chunks removed; "
                        + "graph and full-text index rebuilt in \(String(format: "%.1f", report.seconds)) s")
        }
        guard problems.isEmpty else {
            throw RAGError.store("still damaged after repair: \(problems.joined(separator: "; "))")
        }
    }
}
