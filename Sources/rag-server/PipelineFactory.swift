import RAG
import RAGServer

/// Opens the real pipeline from --db/--model/--embedder/--adapter/--folder.
///
/// The lead replaces the body with the pipeline class's initialiser once it lands, e.g.
/// `try await RAGPipeline(db: config.db, model: config.model, embedder: config.embedder, ...)`.
/// Until then the server starts, answers /health with 503 "error", and shuts down.
enum PipelineFactory {
    static func open(_ config: ServerConfig) async throws -> any RAGService {
        throw RAGError.modelMissing("the pipeline (RAGService implementation) is not part of this build yet")
    }
}
