import Foundation
import XCTest
@testable import RAG

/// `preparePrompt` (behind `rag ask --prompt-only`) gives exactly the prompt `answer` generates from.
final class PromptPreparationTests: XCTestCase {
    func testPreparedPromptIsWhatAnswerUses() throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("fusion.md", "# Rank fusion\n\nReciprocal rank fusion adds 1/(60 + rank) over the lists for each document.")
        try docs.write("bm25.md", "# BM25\n\nBM25 scores a document by term frequency, saturated by k1 = 1.2, and inverse document frequency.")
        try docs.write("hnsw.md", "# HNSW\n\nHNSW links each vector to M = 16 neighbours on every layer of its graph.")
        let p = try TestModels.pipeline(in: store.url, withGenerator: true)
        _ = try p.ingest(folder: docs.url, progress: { _ in })
        let question = "What does reciprocal rank fusion add up for each document?"
        let search = SearchOptions(k: 3, mode: .hybrid)
        let generation = GenerationOptions(maxTokens: 4)
        let request = AnswerRequest(question: question, search: search, generation: generation)

        let prepared = try p.preparePrompt(request)
        XCTAssertFalse(prepared.refused)
        XCTAssertEqual(prepared.question, question)
        let retrieved = try p.retrieve(question, options: search)
        XCTAssertEqual(prepared.passages.map(\.chunkID), retrieved.map(\.chunk.id), "the passages in retrieved order")
        XCTAssertEqual(prepared.passages.map(\.n), Array(1...retrieved.count))
        XCTAssertEqual(prepared.messages.map(\.role), ["system", "user"])
        XCTAssertEqual(prepared.messages[0].content, PromptTemplate.standard.system)
        XCTAssertEqual(prepared.messages[1].content, PromptTemplate.standard.userMessage(passages: prepared.passages, question: question))
        XCTAssertTrue(prepared.messages[1].content.contains("[1] (\(prepared.passages[0].file)"))
        XCTAssertEqual(prepared.promptTokens, try p.generator().chatTokens(prepared.messages))

        let answered = try p.answerSync(request, isCancelled: { false }, onToken: { _ in true })
        XCTAssertEqual(answered.passages, prepared.passages, "answer generated from the same passages")
    }

    func testPreparedPromptRefusesWhereAnswerRefuses() throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("bm25.md", "# BM25\n\nBM25 scores a document by term frequency and inverse document frequency.")
        var c = RAGPipeline.Configuration(database: store.url.appendingPathComponent("kb.db"))
        c.minRelevance = 0.99
        let g = try TestModels.requireGenerator()
        let p = try RAGPipeline(configuration: c, embedder: try TestModels.requireEmbedder()) { g }
        _ = try p.ingest(folder: docs.url, progress: { _ in })
        let request = AnswerRequest(question: "How do penguins keep their eggs warm?")
        let prepared = try p.preparePrompt(request)
        XCTAssertTrue(prepared.refused)
        XCTAssertTrue(prepared.messages.isEmpty && prepared.passages.isEmpty)
        XCTAssertTrue(try p.answerSync(request, isCancelled: { false }, onToken: { _ in true }).refused)
    }
}
