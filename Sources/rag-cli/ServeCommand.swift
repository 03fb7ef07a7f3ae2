import ArgumentParser
import Foundation
import Logging
import RAGServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP service (the same as rag-server, with the same options).")

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let config: ServerConfig
        do { config = try options.resolve(environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError("\(error)")
        }
        config.bootstrapLogging()
        let server = RAGHTTPServer(config: config, logger: Logger(label: "rag-server")) { try await config.openPipeline() }
        try await server.run()
    }
}
