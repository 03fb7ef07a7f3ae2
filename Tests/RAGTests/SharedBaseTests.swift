import Foundation
import VectorIndex
import XCTest
@testable import RAG

/// Two `KnowledgeBase`s on one file — two connections, as two processes have — each writing while
/// the other holds the graph in memory (synthetic vectors; the processes themselves are in
/// SharedBaseProcessTests), and the check and repair of a damaged base.
final class SharedBaseTests: XCTestCase {
    var dir: URL!
    var url: URL { dir.appendingPathComponent("kb.db") }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    let identity = EmbedderIdentity(name: "test-encoder", dimension: 8)

    func open() throws -> KnowledgeBase { try KnowledgeBase(url: url, embedder: identity) }

    func vector(_ axis: Int, _ i: Int) -> [Float] {
        var v = [Float](repeating: 0.05, count: 8)
        v[axis % 8] = 1
        v[(axis + 1) % 8] += Float(i) * 0.01
        return v
    }

    func record(_ path: String, axis: Int, chunks: Int) -> DocumentRecord {
        DocumentRecord(path: path, source: "folder:/x", kind: "markdown", bytes: 10, mtimeNanoseconds: 1, contentHash: "h-\(path)",
                       pages: nil, title: nil,
                       chunks: (0..<chunks).map { i in
                           ChunkRecord(text: "\(path) word\(axis) part \(i)", page: nil, section: nil, charStart: 0, charEnd: 1,
                                       tokens: 3, vector: vector(axis, i))
                       })
    }

    /// The paths a vector search with k = everything returns (every stored chunk must come back).
    func vectorPaths(_ kb: KnowledgeBase, axis: Int) throws -> [String] {
        let hits = try kb.search(mode: .vector, vector: vector(axis, 0), text: "", k: 1000, allowed: nil)
        let rows = try kb.chunks(hits.map(\.label))
        XCTAssertEqual(rows.count, hits.count, "the graph returned chunks that are not in the base")
        return hits.compactMap { rows[$0.label]?.path }
    }

    func testEachWriterBuildsOnTheOthersCommitsAndReadersSeeThem() throws {
        let a = try open(), b = try open()
        try a.put(record("a1.md", axis: 0, chunks: 3))
        // b loaded an empty graph; its write must start from a's rows, not overwrite them.
        try b.put(record("b1.md", axis: 2, chunks: 4))
        try a.put(record("a2.md", axis: 4, chunks: 2))
        for kb in [a, b] {
            let paths = try vectorPaths(kb, axis: 2)
            XCTAssertEqual(paths.count, 9)
            XCTAssertEqual(paths.first, "b1.md")
            XCTAssertEqual(Set(paths), ["a1.md", "b1.md", "a2.md"])
            XCTAssertEqual(try kb.stats().vectors, 9)
        }
        // A delete by one is seen by the other in every mode, and k hits still come back.
        let b1 = try XCTUnwrap(try a.documents().first { $0.path == "b1.md" })
        XCTAssertTrue(try a.removeDocument(id: b1.id))
        XCTAssertFalse(try vectorPaths(b, axis: 2).contains("b1.md"))
        XCTAssertEqual(try b.search(mode: .vector, vector: vector(2, 0), text: "", k: 3, allowed: nil).count, 3)
        XCTAssertEqual(try b.search(mode: .lexical, vector: vector(2, 0), text: "word2", k: 10, allowed: nil).count, 0)
        XCTAssertEqual(try b.search(mode: .hybrid, vector: vector(2, 0), text: "word2", k: 3, allowed: nil).count, 3)
        try b.put(record("b2.md", axis: 6, chunks: 2))
        XCTAssertEqual(try KnowledgeBase.check(url: url), [])
        let fresh = try open()
        XCTAssertEqual(try fresh.stats().vectors, 7)
        XCTAssertEqual(try fresh.stats().chunks, 7)
        XCTAssertEqual(Set(try vectorPaths(fresh, axis: 6)), ["a1.md", "a2.md", "b2.md"])
    }

    func testInterleavedWritersOnManyThreadsLoseNothing() throws {
        let bases = [try open(), try open(), try open()]
        let documents = (0..<3).map { w in (0..<8).map { i in record("w\(w)-\(i).md", axis: w * 2 + i % 2, chunks: 1 + i % 3) } }
        DispatchQueue.concurrentPerform(iterations: 3) { w in
            for (i, doc) in documents[w].enumerated() {
                do {
                    try bases[w].put(doc)
                    // Every third step, delete the previous document (its nodes may be linked from others' nodes).
                    if i % 3 == 2, let previous = try bases[w].documents().first(where: { $0.path == "w\(w)-\(i - 1).md" }) {
                        try bases[w].removeDocument(id: previous.id)
                    }
                } catch {
                    XCTFail("writer \(w), document \(i): \(error)")
                }
            }
        }
        XCTAssertEqual(try KnowledgeBase.check(url: url), [])
        let s = try open().stats()
        XCTAssertEqual(s.documents, 3 * 6)
        XCTAssertEqual(s.vectors, s.chunks)
    }

    func testCheckFindsDamageAndRepairRebuildsIt() throws {
        let embedder = try TestModels.requireEmbedder()
        let docs = try TempFolder()
        try docs.write("tides.md", "# Tides\n\nThe moon's pull raises the tides twice a day along the coast.")
        try docs.write("bread.md", "# Bread\n\nYeast ferments the dough, and the oven's heat sets the crumb of the loaf.")
        try docs.write("chess.md", "# Chess\n\nThe knight moves in an L shape and can jump over other pieces.")
        let pipeline = try TestModels.pipeline(in: dir)
        _ = try pipeline.ingest(folder: docs.url, progress: { _ in })
        let db = try XCTUnwrap(pipeline.configuration.store.fileURL)
        XCTAssertEqual(try KnowledgeBase.check(url: db), [])

        // The damage of issue 17: a link beyond the slots, a chunk without its vector, a missing text row.
        let raw = try Database(path: db.path)
        let entry = try XCTUnwrap(try raw.query("SELECT value FROM vector_index_meta WHERE key = 'entry_point'") { $0.int64(0) }.first)
        try raw.run("UPDATE vector_index_node SET links = ? WHERE slot = ?", .blob(Array([Int32(1), 252].map(\.littleEndian).withUnsafeBytes { Array($0) })),
                    .integer(entry))
        let (lost, lostPath) = try XCTUnwrap(try raw.query("""
            SELECT n.label, d.path FROM vector_index_node n JOIN chunks c ON c.id = n.label JOIN documents d ON d.id = c.document_id
            WHERE n.slot != ? ORDER BY n.slot LIMIT 1
            """, .integer(entry)) { ($0.int64(0), $0.string(1) ?? "") }.first)
        try raw.run("DELETE FROM vector_index_node WHERE label = ?", .integer(lost))
        try raw.run("DELETE FROM \(LexicalIndex.wordTable) WHERE rowid = (SELECT min(id) FROM chunks)")

        let problems = try KnowledgeBase.check(url: db)
        XCTAssertTrue(problems.contains { $0.contains("neighbour 252 out of range") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("chunks without a vector") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("full-text") }, "\(problems)")
        XCTAssertThrowsError(try KnowledgeBase(url: db, embedder: embedder.identity)) { error in
            XCTAssertTrue("\(error)".contains("rag repair"), "\(error)")
        }

        let report = try KnowledgeBase.repair(url: db, with: embedder)
        XCTAssertEqual(report.reembedded, 1)
        XCTAssertEqual(report.vectorsKept, report.chunks - 1)
        XCTAssertEqual(try KnowledgeBase.check(url: db), [])
        let base = try KnowledgeBase(url: db, embedder: embedder.identity)
        XCTAssertEqual(try base.stats().vectors, try base.stats().chunks)
        // The re-embedded chunk is found by meaning again, and its stored vector is the embedder's.
        let questions = ["bread.md": "how does yeast make the dough rise in the oven", "tides.md": "why does the sea rise and fall each day",
                         "chess.md": "which chess piece jumps over the others"]
        let query = try embedder.embed([try XCTUnwrap(questions[lostPath])])[0]
        let hit = try XCTUnwrap(try base.search(mode: .vector, vector: query, text: "", k: 1, allowed: nil).first)
        XCTAssertEqual(try base.chunks([hit.label])[hit.label]?.path, lostPath)
        let stored = try XCTUnwrap(base.index.vector(for: lost))
        let expected = try embedder.embed([try XCTUnwrap(try base.chunks([lost])[lost]?.text)])[0]
        let norm = expected.map { $0 * $0 }.reduce(0, +).squareRoot()
        for (x, y) in zip(stored, expected) { XCTAssertEqual(x, y / norm, accuracy: 1e-4) }
    }
}
