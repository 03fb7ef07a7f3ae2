import Foundation
import XCTest

/// Locations of the real models (RAG_MODELS or ~/.cache/rag/models) and the committed fixtures.
enum FixtureSupport {
    static var modelsDirectory: URL {
        if let env = ProcessInfo.processInfo.environment["RAG_MODELS"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models", isDirectory: true)
    }

    static func fixture(_ name: String) throws -> [String: Any] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"),
                                "missing fixture \(name).json")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    static func cases(_ name: String) throws -> [[String: Any]] {
        try XCTUnwrap(try fixture(name)["cases"] as? [[String: Any]], "\(name).json has no cases")
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizers-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
