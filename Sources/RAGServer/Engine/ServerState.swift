import Foundation
import RAG

/// What the controllers share: the service (once loaded), the generation gate, jobs and metrics.
public struct ServerState: Sendable {
    public let config: ServerConfig
    public let provider: ServiceProvider
    public let gate: GenerationGate
    public let jobs: JobStore
    public let metrics: Metrics

    public init(config: ServerConfig, provider: ServiceProvider = ServiceProvider(), metrics: Metrics = Metrics()) {
        self.config = config
        self.provider = provider
        self.gate = GenerationGate(queue: GenerationQueue(parallel: config.parallel, capacity: config.queue), timeout: config.requestTimeout)
        self.jobs = JobStore()
        self.metrics = metrics
    }

    func service() async throws -> any RAGService { try await provider.service() }

    func gauges() async -> Metrics.Gauges {
        var g = Metrics.Gauges()
        g.queueDepth = await gate.queue.depth
        g.activeGenerations = await gate.queue.active
        g.slots = gate.queue.parallel
        if let service = await provider.readyService() {
            g.ready = true
            if let stats = try? await service.stats() { g.documents = stats.documents; g.chunks = stats.chunks }
        }
        return g
    }
}

enum Identifiers {
    static func make(_ prefix: String) -> String {
        prefix + "-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(24)
    }
    static var now: Int { Int(Date().timeIntervalSince1970) }
}

/// Which models a request may name: the generator and its adapters for generation, the embedder
/// for embeddings. A request without `model` gets the default.
enum ModelResolver {
    static func generation(_ requested: String?, _ models: ModelInfo) throws -> String {
        guard let requested, !requested.isEmpty else { return models.defaultGenerationModel }
        guard requested == models.generator || models.adapters.contains(requested) else { throw APIError.modelNotFound(requested) }
        return requested
    }

    static func embedding(_ requested: String?, _ models: ModelInfo) throws -> String {
        guard let requested, !requested.isEmpty else { return models.embedder }
        guard requested == models.embedder else { throw APIError.modelNotFound(requested) }
        return requested
    }
}
