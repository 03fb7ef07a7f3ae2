import Foundation
import RAG
import ServerTestSupport
import XCTest

/// The service the contract tests talk to over HTTP: the real pipeline (real embedder, real
/// generator, a real SQLite base built from the documents below). Scheduling tests — queue,
/// disconnect, shutdown, timeout — use `ScriptedService`, because they need generation to be
/// slow on purpose.
enum TestBase {
    /// The default models, loaded once per test process (CI fetches them before testing).
    static let models: Result<(EncoderEmbedder, LlamaTextGenerator), Error> = Result {
        (try ModelFactory.embedder(path: nil), try ModelFactory.generator(path: nil, contextLength: 2048))
    }

    static let documents = [
        "hybrid.md": "# Hybrid search\n\nHybrid search returns 5 passages by default. It fuses the vector ranking and the BM25 ranking with reciprocal rank fusion, k = 60.",
        "hnsw.md": "# HNSW\n\nThe HNSW graph links each node to M = 16 neighbours; efSearch sets how many candidates a query keeps.",
        "lora.md": "# LoRA\n\nLoRA freezes the weights and learns a low-rank update B·A with rank r, scaled by alpha / r.",
    ]

    /// The random LoRA adapter the Generator's parity tests use (transformers + peft made it).
    static let adapter = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("GeneratorTests/Fixtures/smollm2_lora", isDirectory: true)

    /// `wrap` may put a `RecordingGenerator` around the real generator (to see the ids it is sent).
    static func makeService(adapter: URL? = nil,
                            wrap: @escaping @Sendable (LlamaTextGenerator) -> any TextGenerator = { $0 }) async throws -> any RAGService {
        let (embedder, generator): (EncoderEmbedder, LlamaTextGenerator)
        do { (embedder, generator) = try models.get() } catch {
            throw XCTSkip("the default models are not installed (\(error)); run scripts/fetch-models.sh")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("server-base-\(UUID().uuidString)", isDirectory: true)
        let docs = dir.appendingPathComponent("docs", isDirectory: true)
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        for (name, text) in documents { try text.write(to: docs.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        var config = RAGPipeline.Configuration(database: dir.appendingPathComponent("kb.db"))
        config.folder = docs
        config.adapterPath = adapter?.path
        // The base model unless a test gives an adapter: `wrap` must see what the generator is sent,
        // and the default adapter (when installed) would be a different generator.
        config.useDefaultAdapter = false
        let pipeline = try RAGPipeline(configuration: config, embedder: embedder) { wrap(generator) }
        _ = try pipeline.ingest(folder: docs, progress: { _ in })
        return pipeline
    }

    /// A question the base answers, so retrieval finds something.
    static let question = "How many passages does hybrid search return by default?"
}
