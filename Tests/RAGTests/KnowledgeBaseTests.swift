import Foundation
import VectorIndex
import XCTest
@testable import RAG

/// The store on a real SQLite file, with small synthetic vectors (the embedder is not involved).
final class KnowledgeBaseTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    let identity = EmbedderIdentity(name: "test-encoder", dimension: 8)

    func open() throws -> KnowledgeBase { try KnowledgeBase(url: dir.appendingPathComponent("kb.db"), embedder: identity) }

    /// A unit vector pointing mostly along axis `i` (distinct documents get distinct directions).
    func vector(_ i: Int, jitter: Float = 0) -> [Float] {
        var v = [Float](repeating: 0.05, count: 8)
        v[i % 8] = 1
        v[(i + 1) % 8] += jitter
        return v
    }

    func record(_ path: String, texts: [String], axis: Int, source: String = "folder:/x") -> DocumentRecord {
        DocumentRecord(path: path, source: source, kind: "markdown", bytes: 10, mtimeNanoseconds: 1, contentHash: "h-\(path)",
                       pages: nil, title: nil,
                       chunks: texts.enumerated().map { i, t in
                           ChunkRecord(text: t, page: nil, section: "S", charStart: i * 10, charEnd: i * 10 + 9, tokens: 3,
                                       vector: vector(axis, jitter: Float(i) * 0.01))
                       })
    }

    func testPutSearchReplaceRemove() throws {
        let kb = try open()
        try kb.put(record("a.md", texts: ["alpha apples", "alpha again"], axis: 0))
        try kb.put(record("b.md", texts: ["bravo bananas"], axis: 3))
        XCTAssertEqual(try kb.stats().chunks, 3)
        XCTAssertEqual(try kb.verifyIntegrity(), [])

        let v = try kb.search(mode: .vector, vector: vector(3), text: "", k: 1, allowed: nil)
        XCTAssertEqual(try kb.chunks(v.map(\.label)).values.first?.path, "b.md")
        let l = try kb.search(mode: .lexical, vector: vector(0), text: "bananas", k: 5, allowed: nil)
        XCTAssertEqual(l.count, 1)

        // Replacing a document swaps its chunks, nodes and text rows in one go.
        try kb.put(record("a.md", texts: ["alpha rewritten"], axis: 0))
        XCTAssertEqual(try kb.stats().chunks, 2)
        XCTAssertEqual(try kb.search(mode: .lexical, vector: vector(0), text: "apples", k: 5, allowed: nil).count, 0)
        XCTAssertEqual(try kb.verifyIntegrity(), [])

        let docs = try kb.documents()
        XCTAssertEqual(docs.map(\.path), ["a.md", "b.md"])
        XCTAssertTrue(try kb.removeDocument(id: docs[1].id))
        XCTAssertFalse(try kb.removeDocument(id: docs[1].id))
        XCTAssertEqual(try kb.stats().vectors, 1)
        XCTAssertEqual(try kb.verifyIntegrity(), [])
    }

    func testReopenGivesIdenticalResults() throws {
        var before: [FusedHit] = []
        do {
            let kb = try open()
            for i in 0..<40 { try kb.put(record("d\(i).md", texts: ["text \(i)", "more \(i)"], axis: i)) }
            before = try kb.search(mode: .hybrid, vector: vector(5), text: "more 13", k: 10, allowed: nil)
        }
        let kb = try open()
        XCTAssertEqual(try kb.search(mode: .hybrid, vector: vector(5), text: "more 13", k: 10, allowed: nil), before)
        XCTAssertEqual(try kb.verifyIntegrity(), [])
    }

    func testAnotherEmbedderIsRefusedWithInstructions() throws {
        _ = try open()
        XCTAssertThrowsError(try KnowledgeBase(url: dir.appendingPathComponent("kb.db"),
                                               embedder: EmbedderIdentity(name: "other", dimension: 8))) { error in
            XCTAssertTrue("\(error)".contains("rag reembed"), "\(error)")
            XCTAssertTrue("\(error)".contains("test-encoder"), "\(error)")
        }
    }

    func testGlobFilterAlwaysFillsK() throws {
        let kb = try open()
        for i in 0..<30 { try kb.put(record("notes/n\(i).md", texts: ["note \(i)"], axis: i)) }
        for i in 0..<30 { try kb.put(record("papers/p\(i).pdf", texts: ["paper \(i)"], axis: i)) }
        let allowed = try kb.chunkIDs(matching: "papers/**")
        XCTAssertEqual(allowed.count, 30)
        let hits = try kb.search(mode: .vector, vector: vector(2), text: "", k: 10, allowed: allowed)
        XCTAssertEqual(hits.count, 10)
        XCTAssertTrue(try kb.chunks(hits.map(\.label)).values.allSatisfy { $0.path.hasPrefix("papers/") })
    }

    func testCompactFreesSpaceOfDeletes() throws {
        let kb = try open()
        let long = String(repeating: "lorem ipsum dolor sit amet ", count: 200)
        for i in 0..<60 { try kb.put(record("d\(i).txt", texts: [long, long], axis: i)) }
        try kb.compact()
        let full = try kb.stats().fileBytes
        for d in try kb.documents() { try kb.removeDocument(id: d.id) }
        try kb.compact()
        let after = try kb.stats().fileBytes
        XCTAssertLessThan(after, full / 3, "compact should give back the space of deleted documents")
        XCTAssertEqual(try kb.verifyIntegrity(), [])
    }
}
