import ArgumentParser
import Foundation
import RAG

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "What the knowledge base holds.")

    @OptionGroup var base: BaseOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Flag(name: .long, help: "Verify the base (graph links, one vector per chunk, full-text rows, SQLite's own check); exit 1 on damage.")
    var check = false

    func run() async throws {
        if check {
            let problems = try KnowledgeBase.check(url: URL(fileURLWithPath: try base.existing().database.path))
            if !problems.isEmpty {
                Console.err("check: \(base.db) is damaged (`rag repair --db \(base.db)` rebuilds what the stored chunks allow):")
                for p in problems { Console.err("  \(p)") }
                throw ExitCode.failure
            }
            if !json { Console.out("check:          ok") }
        }
        let pipeline = try RAGPipeline.open(base.existing())
        let s = try await pipeline.stats()
        let p = pipeline.base.index.parameters
        if json { try Console.json(s); return }
        Console.out("""
            knowledge base: \(base.db) (\(ByteCountFormatter.string(fromByteCount: s.fileBytes, countStyle: .file)))
            documents:      \(s.documents)
            chunks:         \(s.chunks)
            vectors:        \(s.vectors)
            embedder:       \(s.embedder) (\(s.dimension) dimensions)
            index:          HNSW, \(pipeline.base.index.metric.rawValue), M \(p.M), efConstruction \(p.efConstruction), efSearch \(p.efSearch)
            folder:         \((try? pipeline.base.setting("root")) ?? nil ?? "-")
            """)
    }
}
