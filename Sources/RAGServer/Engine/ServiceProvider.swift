import Foundation
import RAG

/// Holds the RAGService once it has loaded. The server listens before the models are ready: until
/// then /health answers 503 "loading" and every route that needs the service answers 503 too.
public actor ServiceProvider {
    public enum State: Sendable {
        case loading
        case ready(any RAGService)
        case failed(String)
        case closed
    }

    public private(set) var state: State = .loading

    public init() {}

    public func set(_ service: any RAGService) { if case .loading = state { state = .ready(service) } }
    public func fail(_ message: String) { state = .failed(message) }
    /// Drops the service so its owner can close it once the server has stopped.
    public func close() { state = .closed }

    /// The service, or the 503 a route should answer with.
    public func service() throws -> any RAGService {
        switch state {
        case .ready(let s): return s
        case .loading: throw APIError.loading
        case .failed(let m): throw APIError.unavailable("The service failed to load: \(m)", code: "load_failed")
        case .closed: throw APIError.unavailable("The server is shutting down.", code: "shutting_down")
        }
    }

    public func readyService() -> (any RAGService)? {
        if case .ready(let s) = state { return s }
        return nil
    }
}
