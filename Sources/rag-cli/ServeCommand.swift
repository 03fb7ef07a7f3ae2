import ArgumentParser
import RAGServer
import RAGServerCLI

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP service (the same as rag-server, with the same options).")

    @OptionGroup var options: ServerOptions

    func run() async throws { try await ServerConfig.serve(options) }
}
