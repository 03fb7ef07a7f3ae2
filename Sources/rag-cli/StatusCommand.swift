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
        let c = try base.existing()
        if check {
            let problems = try c.store.check()
            if !problems.isEmpty {
                Console.err("check: \(c.store) is damaged" + (c.store.fileURL == nil ? ":" : " (`rag repair --db \(c.store)` rebuilds what the stored chunks allow):"))
                for p in problems { Console.err("  \(p)") }
                throw ExitCode.failure
            }
            if !json { Console.out("check:          ok") }
        }
        let pipeline = try RAGPipeline.open(c)
        let s = try await pipeline.stats()
        if json { try Console.json(s); return }
        Console.out("""
            knowledge base: \(c.store) (\(ByteCountFormatter.string(fromByteCount: s.fileBytes, countStyle: .file)))
            documents:      \(s.documents)
            chunks:         \(s.chunks)
            vectors:        \(s.vectors)
            embedder:       \(s.embedder) (\(s.dimension) dimensions)
            index:          \(pipeline.base.indexDescription)
            folder:         \((try? pipeline.base.setting("root")) ?? nil ?? "-")
            """)
    }
}
