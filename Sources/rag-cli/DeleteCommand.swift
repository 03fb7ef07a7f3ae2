import ArgumentParser
import Foundation
import RAG

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Forget documents (by their path in the base).")

    @Argument(help: "Document paths as `rag status`/`rag search` show them (relative to the ingested folder).")
    var paths: [String]

    @OptionGroup var base: BaseOptions

    func run() async throws {
        let pipeline = try RAGPipeline.open(base.existing())
        let docs = try pipeline.base.documents()
        var missing: [String] = []
        for path in paths {
            let matches = docs.filter { $0.path == path }
            if matches.isEmpty { missing.append(path); continue }
            for d in matches { _ = try pipeline.removeDocument(id: d.id) }
            Console.out("deleted \(path)")
        }
        if !missing.isEmpty { throw RAGError.invalidInput("not in the knowledge base: \(missing.joined(separator: ", "))") }
    }
}

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compact", abstract: "Reclaim the space freed by deletes.")

    @OptionGroup var base: BaseOptions

    func run() async throws {
        let pipeline = try RAGPipeline.open(base.existing())
        if case .postgres = pipeline.configuration.store {
            try pipeline.base.compact()
            Console.out("\(pipeline.configuration.store): the base's size recounted; PostgreSQL's autovacuum reclaims deleted rows (VACUUM is its DBA's tool)")
            return
        }
        let before = try await pipeline.stats().fileBytes
        try pipeline.base.compact()
        let after = try await pipeline.stats().fileBytes
        Console.out("compacted \(pipeline.configuration.store): \(ByteCountFormatter.string(fromByteCount: before, countStyle: .file)) → "
                    + ByteCountFormatter.string(fromByteCount: after, countStyle: .file))
    }
}
