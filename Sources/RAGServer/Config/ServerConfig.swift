import Foundation

/// Everything the server needs to start, resolved from flags, environment, a JSON config file
/// and defaults, in that order of precedence.
public struct ServerConfig: Sendable, Equatable {
    // What to serve (passed to the service factory; the server itself never opens them).
    public var db: String?
    public var model: String?
    public var embedder: String?
    public var adapter: String?
    public var folder: String?
    /// A preferences file (`rag prefs collect`) that the ranking page at /rank works on.
    public var prefs: String?

    // Where and how.
    public var host = "127.0.0.1"
    public var port = 8080
    public var apiKey: String?
    public var allowInsecure = false

    // Limits.
    public var parallel = 1                 // generations at once
    public var queue = 16                   // generations waiting for a slot
    public var maxBodyBytes = 1 << 20       // 1 MB for JSON routes
    public var maxUploadBytes = 32 << 20    // 32 MB for POST /v1/documents
    public var maxTokens = 2048             // cap on max_tokens
    public var maxMessages = 256
    public var requestTimeout = 300.0       // seconds, queue wait + generation
    public var logLevel = "info"

    public init() {}

    /// One source of settings; nil means "not set here".
    public struct Layer: Sendable, Equatable, Codable {
        public var db, model, embedder, adapter, folder, prefs, host: String?
        public var port: Int?
        public var apiKey: String?
        public var allowInsecure: Bool?
        public var parallel, queue, maxBodyBytes, maxUploadBytes, maxTokens, maxMessages: Int?
        public var requestTimeout: Double?
        public var logLevel: String?
        public init() {}

        /// The keys of the JSON file, also the suffixes of the environment variables (RAG_ + upper case).
        enum CodingKeys: String, CodingKey, CaseIterable {
            case db, model, embedder, adapter, folder, prefs, host, port
            case apiKey = "api_key", allowInsecure = "allow_insecure"
            case parallel, queue
            case maxBodyBytes = "max_body_bytes", maxUploadBytes = "max_upload_bytes"
            case maxTokens = "max_tokens", maxMessages = "max_messages"
            case requestTimeout = "request_timeout", logLevel = "log_level"
            var environmentName: String { "RAG_" + rawValue.uppercased() }
        }
    }

    public enum ConfigError: Error, CustomStringConvertible, Equatable {
        case invalid(String)
        public var description: String { if case .invalid(let m) = self { return m }; return "" }
    }

    /// flags > environment > file > defaults.
    public static func resolve(flags: Layer, environment: [String: String], file: Layer?) throws -> ServerConfig {
        var config = ServerConfig()
        for layer in [file ?? Layer(), try Layer(environment: environment), flags] { config.apply(layer) }
        try config.validate()
        return config
    }

    mutating func apply(_ l: Layer) {
        db = l.db ?? db; model = l.model ?? model; embedder = l.embedder ?? embedder
        adapter = l.adapter ?? adapter; folder = l.folder ?? folder; prefs = l.prefs ?? prefs; host = l.host ?? host; port = l.port ?? port
        if let key = l.apiKey { apiKey = key.isEmpty ? nil : key }
        allowInsecure = l.allowInsecure ?? allowInsecure; parallel = l.parallel ?? parallel; queue = l.queue ?? queue
        maxBodyBytes = l.maxBodyBytes ?? maxBodyBytes; maxUploadBytes = l.maxUploadBytes ?? maxUploadBytes
        maxTokens = l.maxTokens ?? maxTokens; maxMessages = l.maxMessages ?? maxMessages
        requestTimeout = l.requestTimeout ?? requestTimeout; logLevel = l.logLevel ?? logLevel
    }

    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ConfigError.invalid(message) } }
        try check((0...65535).contains(port), "port \(port) is outside 0...65535")
        try check(parallel >= 1, "parallel must be at least 1 (got \(parallel))")
        try check(queue >= 0, "queue must be 0 or more (got \(queue))")
        try check(maxBodyBytes > 0 && maxUploadBytes > 0, "body limits must be positive")
        try check(maxTokens >= 1, "max_tokens must be at least 1 (got \(maxTokens))")
        try check(maxMessages >= 1, "max_messages must be at least 1 (got \(maxMessages))")
        try check(requestTimeout > 0, "request_timeout must be positive (got \(requestTimeout))")
        try check(!host.isEmpty, "host must not be empty")
        if apiKey == nil && !allowInsecure && !Self.isLoopback(host) {
            throw ConfigError.invalid("refusing to listen on \(host) without an API key: set --api-key (or RAG_API_KEY), bind to 127.0.0.1, or pass --allow-insecure")
        }
    }

    public static func isLoopback(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if h == "localhost" || h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

extension ServerConfig.Layer {
    /// Reads RAG_DB, RAG_MODEL, RAG_PORT, … ; a malformed number or flag names its variable.
    public init(environment env: [String: String]) throws {
        self.init()
        func string(_ k: CodingKeys) -> String? { env[k.environmentName].flatMap { $0.isEmpty ? nil : $0 } }
        func int(_ k: CodingKeys) throws -> Int? {
            guard let s = string(k) else { return nil }
            guard let v = Int(s) else { throw ServerConfig.ConfigError.invalid("\(k.environmentName)=\(s) is not an integer") }
            return v
        }
        db = string(.db); model = string(.model); embedder = string(.embedder); adapter = string(.adapter)
        folder = string(.folder); prefs = string(.prefs); host = string(.host); apiKey = string(.apiKey); logLevel = string(.logLevel)
        port = try int(.port); parallel = try int(.parallel); queue = try int(.queue)
        maxBodyBytes = try int(.maxBodyBytes); maxUploadBytes = try int(.maxUploadBytes)
        maxTokens = try int(.maxTokens); maxMessages = try int(.maxMessages)
        if let s = string(.requestTimeout) {
            guard let v = Double(s) else { throw ServerConfig.ConfigError.invalid("RAG_REQUEST_TIMEOUT=\(s) is not a number") }
            requestTimeout = v
        }
        if let s = string(.allowInsecure) {
            switch s.lowercased() {
            case "1", "true", "yes": allowInsecure = true
            case "0", "false", "no": allowInsecure = false
            default: throw ServerConfig.ConfigError.invalid("RAG_ALLOW_INSECURE=\(s) is not true or false")
            }
        }
    }

    /// Reads a JSON config file with the same keys (`{"db": "...", "port": 8080, "api_key": "..."}`).
    public init(jsonFile path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ServerConfig.ConfigError.invalid("cannot read config file \(path): \(error.localizedDescription)")
        }
        do {
            let object = try JSONSerialization.jsonObject(with: data)
            guard let dict = object as? [String: Any] else { throw ServerConfig.ConfigError.invalid("config file \(path): expected a JSON object") }
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            if let unknown = dict.keys.sorted().first(where: { !known.contains($0) }) {
                throw ServerConfig.ConfigError.invalid("config file \(path): unknown key '\(unknown)'")
            }
            self = try JSONDecoder().decode(Self.self, from: data)
        } catch let error as ServerConfig.ConfigError {
            throw error
        } catch let error as DecodingError {
            throw ServerConfig.ConfigError.invalid("config file \(path): \(JSONCoding.apiError(from: error).message)")
        } catch {
            throw ServerConfig.ConfigError.invalid("config file \(path) is not valid JSON")
        }
    }
}
