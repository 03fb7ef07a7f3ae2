import ArgumentParser
import RAG

@main
struct RagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag",
        abstract: "Local retrieval-augmented question answering over a folder of documents.",
        version: "0.1.0",
        subcommands: []
    )
}
