import Foundation
import XCTest
@testable import Embedder
@testable import Tensor

/// The default model folder (RAG_MODELS or ~/.cache/rag/models), or a skip when it was not fetched.
func defaultModelDirectory() throws -> URL {
    let root = ProcessInfo.processInfo.environment["RAG_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
    let dir = root.appendingPathComponent("all-MiniLM-L6-v2")
    guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
        throw XCTSkip("all-MiniLM-L6-v2 not found at \(dir.path) (run scripts/fetch-models.sh)")
    }
    return dir
}

func fixtureURL(_ name: String) throws -> URL {
    guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
        throw EmbedderError.missingFile(path: "Fixtures/\(name)")
    }
    return url
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var dot: Double = 0, na: Double = 0, nb: Double = 0
    for i in 0..<min(a.count, b.count) {
        dot += Double(a[i]) * Double(b[i]); na += Double(a[i]) * Double(a[i]); nb += Double(b[i]) * Double(b[i])
    }
    return Float(dot / max((na * nb).squareRoot(), 1e-30))
}

func temporaryDirectory(_ name: String = #function) throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("embedder-tests-\(name.filter { $0.isLetter || $0.isNumber })-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}
