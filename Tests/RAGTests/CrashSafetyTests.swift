import Foundation
import XCTest
@testable import RAG
#if canImport(Glibc)
import Glibc
#endif

/// Kills a real `rag ingest` process with SIGKILL at several moments and checks that the base is
/// always valid, with every document either fully in (all its chunks, nodes and text rows) or
/// fully out, and that the next ingest completes the work.
final class CrashSafetyTests: XCTestCase {
    /// The `rag` executable built beside this test bundle.
    var ragBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("rag")
    }

    func testKillNineDuringIngestLeavesEachDocumentWholeOrAbsent() throws {
        let embedder = try TestModels.requireEmbedder()
        guard FileManager.default.isExecutableFile(atPath: ragBinary.path) else {
            return XCTFail("\(ragBinary.path) is missing: build the package (swift build) before testing")
        }
        let docs = try TempFolder(), store = try TempFolder()
        let sentences = ["Vectors are compared by cosine similarity.", "The graph keeps sixteen links per node.",
                         "Lexical search ranks with BM25.", "Chunks overlap by a few sentences.",
                         "Answers cite their passages by number."]
        for i in 0..<24 {
            let body = (0..<30).map { j in "Document \(i) line \(j): \(sentences[(i + j) % sentences.count])" }
            try docs.write("doc\(i).md", "# Document \(i)\n\n" + body.joined(separator: " "))
        }

        // What a complete ingest gives, per document.
        let reference = try TestModels.pipeline(in: store.url.appendingPathComponent("ref", isDirectory: true).creatingDirectory())
        let started = Date()
        _ = try reference.ingest(folder: docs.url, progress: { _ in })
        let fullSeconds = Date().timeIntervalSince(started)
        let expected = Dictionary(uniqueKeysWithValues: try reference.base.documentInfos(offset: 0, limit: 1000).items.map { ($0.path, $0.chunks) })
        XCTAssertEqual(expected.count, 24)

        let db = store.url.appendingPathComponent("crash.db")
        var rng = SystemRandomNumberGenerator()
        var killedMidway = 0
        for round in 0..<5 {
            // Spread the kills over the expected run time (model loading included), with jitter.
            let delay = 0.3 + (fullSeconds + 0.5) * (Double(round) + Double.random(in: 0..<1, using: &rng)) / 5
            let process = Process()
            process.executableURL = ragBinary
            process.arguments = ["ingest", docs.url.path, "--db", db.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: delay)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killedMidway += 1
            }
            process.waitUntilExit()

            let base = try KnowledgeBase(url: db, embedder: embedder.identity)
            XCTAssertEqual(try base.verifyIntegrity(), [], "round \(round), killed after \(delay) s")
            for doc in try base.documentInfos(offset: 0, limit: 1000).items {
                XCTAssertEqual(doc.chunks, expected[doc.path], "\(doc.path) is partly in after round \(round)")
            }
        }
        XCTAssertGreaterThan(killedMidway, 0, "no kill landed while the ingest was running")

        // The next ingest finishes the work.
        let finish = Process()
        finish.executableURL = ragBinary
        finish.arguments = ["ingest", docs.url.path, "--db", db.path]
        finish.standardOutput = FileHandle.nullDevice
        finish.standardError = FileHandle.nullDevice
        try finish.run()
        finish.waitUntilExit()
        XCTAssertEqual(finish.terminationStatus, 0)
        let base = try KnowledgeBase(url: db, embedder: embedder.identity)
        XCTAssertEqual(try base.verifyIntegrity(), [])
        let final = Dictionary(uniqueKeysWithValues: try base.documentInfos(offset: 0, limit: 1000).items.map { ($0.path, $0.chunks) })
        XCTAssertEqual(final, expected)
    }
}

extension URL {
    func creatingDirectory() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
