import ArgumentParser
import RAGServer
import RAGServerCLI

@main
struct RagServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-server",
        abstract: "OpenAI-compatible HTTP service over a rag knowledge base.",
        discussion: """
        Settings come from flags, then RAG_* environment variables (RAG_DB, RAG_MODEL, RAG_EMBEDDER, \
        RAG_API_KEY, RAG_HOST, RAG_PORT, RAG_PARALLEL, RAG_QUEUE, RAG_FOLDER, …), then --config FILE \
        (JSON with the keys db, model, embedder, adapter, folder, host, port, api_key, allow_insecure, \
        parallel, queue, max_body_bytes, max_upload_bytes, max_tokens, max_messages, request_timeout, log_level).
        """
    )

    @OptionGroup var options: ServerOptions

    func run() async throws { try await ServerConfig.serve(options) }
}
