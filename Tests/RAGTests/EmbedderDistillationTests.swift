import Foundation
import XCTest
@testable import RAG

/// `rag distill-embedder` on a small real base: the 6-layer default cut to 3 layers and trained
/// towards the teacher on the base's chunks.
final class EmbedderDistillationTests: XCTestCase {
    func testStudentGetsCloserToTheTeacherAndIsSavedLoadable() throws {
        let temp = try TempFolder()
        let topics = ["HNSW graphs link each vector to its nearest neighbours on several layers.",
                      "Reciprocal rank fusion adds one over sixty plus the rank over every list.",
                      "LoRA learns a low-rank update of a frozen weight, scaled by alpha over r.",
                      "SQLite in WAL mode lets readers see a snapshot while one writer commits.",
                      "WordPiece splits unknown words into pieces marked with two hashes.",
                      "Byte-level BPE merges the most frequent pair of symbols, step by step."]
        for (i, topic) in topics.enumerated() {
            let text = (0..<6).map { j in "Note \(j) on topic \(i). \(topic) It matters for retrieval in case \(j + i)." }
            try temp.write("doc\(i).md", "# Topic \(i)\n\n" + text.joined(separator: "\n\n"))
        }
        let e = try TestModels.requireEmbedder()
        var c = RAGPipeline.Configuration(database: temp.url.appendingPathComponent("kb.db"))
        c.chunkTokens = 32
        c.chunkOverlap = 0
        let p = try RAGPipeline(configuration: c, embedder: e) { throw RAGError.modelMissing("no generator here") }
        _ = try p.ingest(folder: temp.url, progress: { _ in })

        var o = EmbedderDistillation.Options(knowledgeBase: c.store)
        o.batchSize = 8; o.epochs = 4; o.maxSteps = 8; o.learningRate = 5e-4; o.warmupSteps = 0
        let out = temp.url.appendingPathComponent("student", isDirectory: true)
        let r = try EmbedderDistillation.run(embedderPath: nil, output: out, options: o, log: { _ in }, progress: { _ in })
        XCTAssertEqual(r.teacherLayers, [0, 2, 4])
        XCTAssertEqual(r.steps, 8)
        XCTAssertGreaterThan(r.heldOutTexts, 0)
        XCTAssertGreaterThan(r.cosineAfter, r.cosineBefore, "training towards the teacher must bring the student closer")

        let student = try ModelFactory.embedder(path: out.path)
        XCTAssertEqual(student.identity.dimension, 384)
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(config["num_hidden_layers"] as? Int, 3)
    }

    func testImpossibleLayerCountIsRefused() throws {
        _ = try TestModels.requireEmbedder()
        let temp = try TempFolder()
        let o = EmbedderDistillation.Options(knowledgeBase: .sqlite(temp.url.appendingPathComponent("kb.db")))
        var wrong = o
        wrong.layers = 6
        XCTAssertThrowsError(try EmbedderDistillation.run(embedderPath: nil, output: temp.url, options: wrong, log: { _ in }, progress: { _ in })) {
            XCTAssertTrue("\($0)".contains("--layers 6"), "\($0)")
        }
    }
}
