import Foundation
import XCTest
@testable import RAG

/// The real default models, shared by the tests that need them (CI fetches them before testing;
/// elsewhere run scripts/fetch-models.sh). Loaded once per test process.
enum TestModels {
    static let locator = ModelLocator()

    static let embedder: Result<EncoderEmbedder, Error> = Result { try ModelFactory.embedder(path: nil) }
    static let generator: Result<LlamaTextGenerator, Error> = Result { try ModelFactory.generator(path: nil, contextLength: 2048) }

    static func requireEmbedder() throws -> EncoderEmbedder {
        do { return try embedder.get() } catch {
            throw XCTSkip("the default embedder is not installed (\(error)); run scripts/fetch-models.sh")
        }
    }

    static func requireGenerator() throws -> LlamaTextGenerator {
        do { return try generator.get() } catch {
            throw XCTSkip("the default generator is not installed (\(error)); run scripts/fetch-models.sh")
        }
    }

    /// A pipeline over a fresh base in `dir`, with the real models.
    static func pipeline(in dir: URL, withGenerator: Bool = false) throws -> RAGPipeline {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let e = try requireEmbedder()
        let g: LlamaTextGenerator? = withGenerator ? try requireGenerator() : nil
        return try RAGPipeline(configuration: RAGPipeline.Configuration(database: dir.appendingPathComponent("kb.db")), embedder: e) {
            guard let g else { throw RAGError.modelMissing("this test has no generator") }
            return g
        }
    }
}

/// A temporary folder removed at the end of the test.
final class TempFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("rag-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    func writeData(_ relative: String, _ data: Data) throws {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }
}
