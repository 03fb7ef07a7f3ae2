// Shared helpers of the Generator tests: the real SmolLM2 GGUF (RAG_MODELS or ~/.cache/rag/models)
// loaded once, and the parity fixtures made by scripts/fixtures/make_generator_fixtures.py.

import Foundation
import XCTest
@testable import Generator

enum RealModel {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    static var url: URL {
        let env = ProcessInfo.processInfo.environment
        let folder = env["RAG_MODELS"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
        return folder.appendingPathComponent(fileName)
    }

    /// Loaded once for all tests (weights are read-only and shared).
    nonisolated(unsafe) private static var cached: LlamaModel?
    private static let lock = NSLock()

    /// The model, or a test failure naming where it was looked for.
    static func load() throws -> LlamaModel {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("the real model is not at \(url.path) (run scripts/fetch-models.sh or set RAG_MODELS)")
        }
        let model = try LlamaModel.load(from: url)
        cached = model
        return model
    }
}

enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil) else {
            throw XCTSkip("fixture \(name) is missing")
        }
        return url
    }

    static func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }

    /// Little-endian float32 file as [Float].
    static func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: url(name))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }
}

/// smollm2_parity.json
struct ParityFixture: Decodable {
    struct Message: Decodable {
        let role: String
        let content: String
    }

    struct Case: Decodable {
        let messages: [Message]
        let prompt_ids: [Int]
        let greedy_ids: [Int]
        let positions: [Int]
        let top1: [Int]
        let top_ids: [[Int]]
        let top_logits: [[Float]]
        let full_positions: [Int]
        let full_logits_index: [Int]
    }

    let vocab_size: Int
    let greedy_tokens: Int
    let cases: [Case]
}

/// Decodes ids to nothing: for tests that compare token ids only.
struct SilentDecoder: TokenStreamDecoding {
    mutating func push(_ id: Int) -> String { "" }
    mutating func finish() -> String { "" }
}

/// Counts calls: a training run's `shouldStop` that asks to stop after N steps.
final class Counter: @unchecked Sendable {
    private var n = 0
    func next() -> Int { n += 1; return n }
}
