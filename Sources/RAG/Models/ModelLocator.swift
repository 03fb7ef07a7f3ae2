import Foundation

/// Where models live: `RAG_MODELS`, else `~/.cache/rag/models`. The defaults are fetched there by
/// `scripts/fetch-models.sh` (run by `./setup.sh`).
public struct ModelLocator: Sendable {
    public static let defaultEmbedderName = "all-MiniLM-L6-v2"
    public static let defaultGeneratorName = "SmolLM2-135M-Instruct.Q4_1.gguf"

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
