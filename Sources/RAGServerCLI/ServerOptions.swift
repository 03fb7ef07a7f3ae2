import ArgumentParser
import Foundation
import RAG
import RAGServer

/// The command-line options of `rag-server` (and of `rag serve` and the test-only scripted server,
/// which include them with `@OptionGroup`). Each is optional so that environment and config file
/// can fill the gaps. Parsing lives here, beside the executables; the RAGServer library only ever
/// sees the resolved `ServerConfig`.
public struct ServerOptions: ParsableArguments, Sendable {
    @Option(help: "Knowledge base: a SQLite file, or postgres://user@host:port/dbname (pgvector). Env RAG_DB.") public var db: String?
    @Option(help: "Generator model (GGUF file or HF folder). Env RAG_MODEL.") public var model: String?
    @Option(help: "Embedder model folder. Env RAG_EMBEDDER.") public var embedder: String?
    @Option(help: "LoRA adapter folder (PEFT layout), or none. Env RAG_ADAPTER. Default: the default model's own adapter when installed.") public var adapter: String?
    @Flag(name: .customLong("no-adapter"), help: "Serve the default model without its default adapter (same as --adapter none).") public var noAdapter = false
    @Option(help: "Folder that POST /v1/ingest re-syncs. Env RAG_FOLDER.") public var folder: String?
    @Option(help: "Preferences file (rag prefs collect) to rank on the page at /rank. Env RAG_PREFS.") public var prefs: String?
    @Option(help: "Address to bind (default 127.0.0.1). Env RAG_HOST.") public var host: String?
    @Option(help: "Port (default 8080; 0 picks a free one). Env RAG_PORT.") public var port: Int?
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY'. Env RAG_API_KEY.") public var apiKey: String?
    @Flag(name: .customLong("allow-insecure"), help: "Allow a non-loopback host without an API key.") public var allowInsecure = false
    @Option(help: "Generations that run at once (default 1). Env RAG_PARALLEL.") public var parallel: Int?
    @Option(help: "Generations that may wait for a slot before 429 (default 16). Env RAG_QUEUE.") public var queue: Int?
    @Option(name: .customLong("max-tokens"), help: "Cap on max_tokens (default 2048).") public var maxTokens: Int?
    @Option(name: .customLong("request-timeout"), help: "Seconds a generation may wait and run (default 300).") public var requestTimeout: Double?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.") public var logLevel: String?
    @Option(help: "JSON config file with the same keys (db, model, port, api_key, …).") public var config: String?

    public init() {}

    public func validate() throws {
        if noAdapter, adapter != nil { throw ValidationError("--no-adapter and --adapter exclude each other") }
    }

    public var layer: ServerConfig.Layer {
        var l = ServerConfig.Layer()
        l.db = db; l.model = model; l.embedder = embedder; l.adapter = noAdapter ? ServerConfig.noAdapter : adapter; l.folder = folder
        l.prefs = prefs
        l.host = host; l.port = port; l.apiKey = apiKey; l.allowInsecure = allowInsecure ? true : nil
        l.parallel = parallel; l.queue = queue; l.maxTokens = maxTokens; l.requestTimeout = requestTimeout
        l.logLevel = logLevel
        return l
    }

    /// Flags > environment > `--config` file > defaults.
    public func resolve(environment: [String: String]) throws -> ServerConfig {
        let file = try config.map { try ServerConfig.Layer(jsonFile: $0) }
        return try ServerConfig.resolve(flags: layer, environment: environment, file: file)
    }
}

extension ServerConfig {
    /// Resolves the options (flags > environment > config file) and serves the real pipeline until
    /// SIGINT/SIGTERM, computing on `RAG_THREADS` threads: what `rag-server` and `rag serve` both do. A bad setting is a usage error.
    public static func serve(_ options: ServerOptions) async throws {
        let config: ServerConfig
        let environment = ProcessInfo.processInfo.environment
        do {
            try ThreadSetting.apply(environment: environment)
            config = try options.resolve(environment: environment)
        } catch {
            throw ValidationError("\(error)")
        }
        try await config.serve()
    }
}
