import ArgumentParser
import Logging
import Foundation
import RAG

extension ServerConfig {
    /// Opens the real pipeline this configuration names, with the generator loaded up front so
    /// that /health turns ok only when answers can be served.
    public func openPipeline() async throws -> any RAGService {
        var c = RAGPipeline.Configuration(database: URL(fileURLWithPath: db ?? "rag.db"))
        c.embedderPath = embedder
        c.generatorPath = model
        c.adapterPath = adapter
        c.folder = folder.map { URL(fileURLWithPath: $0, isDirectory: true) }
        let pipeline = try RAGPipeline.open(c)
        _ = try pipeline.generator(named: nil)  // the default: the adapter when one is given
        return pipeline
    }

    /// Resolves the options (flags > environment > config file), sets up logging, and serves the
    /// real pipeline until SIGINT/SIGTERM: what `rag-server` and `rag serve` both do.
    public static func serve(_ options: ServerOptions) async throws {
        let config: ServerConfig
        do { config = try options.resolve(environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError("\(error)")
        }
        config.bootstrapLogging()
        let server = RAGHTTPServer(config: config, logger: Logger(label: "rag-server")) { try await config.openPipeline() }
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
