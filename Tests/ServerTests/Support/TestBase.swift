import Foundation
import RAG
import ServerTestSupport

/// THE factory the contract tests use. To run the suite against the real pipeline, return the
/// real `RAGService` here (opened on a small base built from fixtures) and set `question` to one
/// that base can answer; every test in `ContractTests` then talks to it over HTTP unchanged.
/// (Scheduling tests — queue, disconnect, shutdown, timeout — keep `ScriptedService`, because
/// they need generation to be slow on purpose.)
enum TestBase {
    static func makeService() async throws -> any RAGService {
        let service = ScriptedService()
        await service.seed()
        return service
    }

    /// A question whose words occur in the base, so retrieval finds something.
    static let question = "How many passages does hybrid search return by default?"
}
