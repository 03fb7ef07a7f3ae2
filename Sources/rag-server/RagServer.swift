import ArgumentParser
import Hummingbird
import RAG

@main
struct RagServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-server",
        abstract: "OpenAI-compatible HTTP service over a rag knowledge base."
    )
}
