import Foundation

/// Where models live: `RAG_MODELS`, else `~/.cache/rag/models`. The defaults are fetched there by
/// `scripts/fetch-models.sh` (run by `./setup.sh`).
public struct ModelLocator: Sendable {
    public static let defaultEmbedderName = "all-MiniLM-L6-v2"
    public static let defaultGeneratorName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// The project's own LoRA adapter for the default generator (train/rag-adapter; committed under
    /// adapters/ and copied here by scripts/fetch-models.sh). It answers briefly from the passages and cites them.
    public static let defaultAdapterName = "SmolLM2-135M-Instruct-rag"

    public let directory: URL

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let custom = environment["RAG_MODELS"], !custom.isEmpty {
            directory = URL(fileURLWithPath: custom, isDirectory: true)
        } else {
            let home = environment["HOME"].map { URL(fileURLWithPath: $0, isDirectory: true) }
                ?? FileManager.default.homeDirectoryForCurrentUser
            directory = home.appendingPathComponent(".cache/rag/models", isDirectory: true)
        }
    }

    /// The embedder folder: `path` when given, else the default model in the models directory.
    public func embedder(_ path: String? = nil) throws -> URL {
        try resolve(path, defaultName: Self.defaultEmbedderName, what: "embedder")
    }

    /// The generator (a GGUF file or a Hugging Face folder): `path` when given, else the default.
    public func generator(_ path: String? = nil) throws -> URL {
        try resolve(path, defaultName: Self.defaultGeneratorName, what: "generator model")
    }

    /// The default adapter's folder when it is installed; nil otherwise (the base model then answers alone).
    public func defaultAdapter() -> URL? {
        let url = directory.appendingPathComponent(Self.defaultAdapterName, isDirectory: true)
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("adapter_config.json").path) ? url : nil
    }

    /// Whether `path` names the default generator (nil, or the default file itself).
    public func isDefaultGenerator(_ path: String?) -> Bool {
        guard let path else { return true }
        return URL(fileURLWithPath: path).standardizedFileURL.path
            == directory.appendingPathComponent(Self.defaultGeneratorName).standardizedFileURL.path
    }

    private func resolve(_ path: String?, defaultName: String, what: String) throws -> URL {
        let url = path.map { URL(fileURLWithPath: $0) } ?? directory.appendingPathComponent(defaultName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            if path != nil { throw RAGError.modelMissing("\(what) not found at \(url.path)") }
            throw RAGError.modelMissing(
                "default \(what) not found at \(url.path); run scripts/fetch-models.sh (or ./setup.sh), or set RAG_MODELS")
        }
        return url
    }
}
