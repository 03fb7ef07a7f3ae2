import Logging
import Foundation
import RAG

extension ServerConfig {
    /// The `adapter` value that switches the default model's default adapter off.
    public static let noAdapter = "none"

    /// Opens the real pipeline this configuration names, with the generator loaded up front so
    /// that /health turns ok only when answers can be served.
    public func openPipeline() async throws -> any RAGService {
        var c = RAGPipeline.Configuration(store: try StoreLocation(db ?? "rag.db"))
        c.embedderPath = embedder
        c.generatorPath = model
        // "none" runs the default model without its default adapter (rag-server --no-adapter).
        c.adapterPath = adapter == ServerConfig.noAdapter ? nil : adapter
        c.useDefaultAdapter = adapter != ServerConfig.noAdapter
        c.folder = folder.map { URL(fileURLWithPath: $0, isDirectory: true) }
        let pipeline = try RAGPipeline.open(c)
        _ = try pipeline.generator(named: nil)  // the default: the adapter when one is given
        return pipeline
    }

    /// Sets up logging and serves the real pipeline this configuration names until SIGINT/SIGTERM.
    public func serve() async throws {
        bootstrapLogging()
        let server = RAGHTTPServer(config: self, logger: Logger(label: "rag-server")) { try await self.openPipeline() }
        try await server.run()
    }

    /// The standard logging setup of the server: one handler on stderr at the configured level.
    public func bootstrapLogging() {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
