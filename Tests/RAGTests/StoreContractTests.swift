import Foundation
import ServerTestSupport
import VectorIndex
import XCTest
@testable import RAG

/// What every knowledge store must do, run on both: a real SQLite file and a real PostgreSQL
/// database with pgvector (`PostgresStoreTests` below, on the server test.sh starts). Small
/// synthetic vectors; the embedder is not involved.
class SQLiteStoreTests: XCTestCase {
    var dir: URL!
    let identity = EmbedderIdentity(name: "test-encoder", dimension: 8)

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// The store under test (each call opens it again, as another process would).
    func location() throws -> StoreLocation { .sqlite(dir.appendingPathComponent("kb.db")) }
    func open(_ identity: EmbedderIdentity? = nil) throws -> any KnowledgeStore { try location().open(embedder: identity ?? self.identity) }

    /// A unit vector pointing mostly along axis `i`.
    func vector(_ i: Int, jitter: Float = 0) -> [Float] {
        var v = [Float](repeating: 0.05, count: 8)
        v[i % 8] = 1
        v[(i + 1) % 8] += jitter
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    func record(_ path: String, texts: [String], axis: Int, source: String = "folder:/x") -> DocumentRecord {
        DocumentRecord(path: path, source: source, kind: "markdown", bytes: 10, mtimeNanoseconds: 1, contentHash: "h-\(path)",
                       pages: 2, title: "T \(path)",
                       chunks: texts.enumerated().map { i, t in
                           ChunkRecord(text: t, page: i == 0 ? 1 : nil, section: i == 0 ? "S" : nil, charStart: i * 10, charEnd: i * 10 + 9,
                                       tokens: 3, vector: vector(axis, jitter: Float(i) * 0.01))
                       })
    }

    // MARK: the contract

    func runPutSearchReplaceRemove() throws {
        let kb = try open()
        try kb.put(record("a.md", texts: ["alpha apples", "alpha again"], axis: 0))
        try kb.put(record("b.md", texts: ["bravo bananas"], axis: 3))
        XCTAssertEqual(try kb.stats().chunks, 3)
        XCTAssertEqual(try kb.stats().vectors, 3)

        let v = try kb.search(mode: .vector, vector: vector(3), text: "", k: 1, allowed: nil)
        XCTAssertEqual(try kb.chunks(v.map(\.label)).values.first?.path, "b.md")
        XCTAssertEqual(v.first?.score ?? 0, 0, accuracy: 1e-5, "vector score is −cosine distance: the same direction scores 0")
        let l = try kb.search(mode: .lexical, vector: vector(0), text: "what about the bananas?", k: 5, allowed: nil)
        XCTAssertEqual(l.count, 1)
        XCTAssertEqual(try kb.chunks(l.map(\.label)).values.first?.text, "bravo bananas")
        let h = try kb.search(mode: .hybrid, vector: vector(0), text: "apples", k: 2, allowed: nil)
        XCTAssertEqual(h.first?.ranks, [1, 1], "the chunk first in both rankings is first fused")

        // Replacing a document swaps its chunks, vectors and words in one go.
        try kb.put(record("a.md", texts: ["alpha rewritten"], axis: 0))
        XCTAssertEqual(try kb.stats().chunks, 2)
        XCTAssertEqual(try kb.search(mode: .lexical, vector: vector(0), text: "apples", k: 5, allowed: nil).count, 0)
        XCTAssertEqual(try kb.search(mode: .vector, vector: vector(0), text: "", k: 10, allowed: nil).count, 2)

        let docs = try kb.documents()
        XCTAssertEqual(docs.map(\.path), ["a.md", "b.md"])
        XCTAssertEqual(try kb.documents(source: "upload").count, 0)
        XCTAssertEqual(try kb.storedDocument(id: docs[0].id)?.contentHash, "h-a.md")
        try kb.touch(documentID: docs[0].id, mtimeNanoseconds: 77)
        XCTAssertEqual(try kb.storedDocument(id: docs[0].id)?.mtimeNanoseconds, 77)
        let info = try XCTUnwrap(try kb.document(id: docs[1].id))
        XCTAssertEqual(info.chunks, 1)
        XCTAssertEqual(info.pages, 2)
        let page = try kb.documentInfos(offset: 1, limit: 5)
        XCTAssertEqual(page.total, 2)
        XCTAssertEqual(page.items.map(\.path), ["b.md"])

        XCTAssertTrue(try kb.removeDocument(id: docs[1].id))
        XCTAssertFalse(try kb.removeDocument(id: docs[1].id))
        XCTAssertEqual(try kb.stats().vectors, 1)
        XCTAssertEqual(try kb.search(mode: .lexical, vector: vector(0), text: "bananas", k: 5, allowed: nil).count, 0)
        XCTAssertEqual(try location().check(), [])
    }

    func runChunksAndSimilarities() throws {
        let kb = try open()
        try kb.put(record("a.md", texts: ["one", "two"], axis: 1))
        let all = try kb.allChunks()
        XCTAssertEqual(all.map(\.text), ["one", "two"])
        XCTAssertEqual(all[0].page, 1)
        XCTAssertEqual(all[0].section, "S")
        XCTAssertNil(all[1].page)
        XCTAssertNil(all[1].section)
        let byID = try kb.chunks(all.map(\.id) + [999_999])
        XCTAssertEqual(byID.count, 2, "an unknown id is left out")
        let s = try kb.similarities(vector(1), ids: all.map(\.id))
        XCTAssertEqual(s[all[0].id] ?? 0, 1, accuracy: 1e-5)
        let expected = zip(vector(1), vector(1, jitter: 0.01)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(s[all[1].id] ?? 0, Double(expected), accuracy: 1e-5)
    }

    func runReopenGivesIdenticalResults() throws {
        var before: [FusedHit] = []
        do {
            let kb = try open()
            for i in 0..<40 { try kb.put(record("d\(i).md", texts: ["text \(i)", "more \(i)"], axis: i)) }
            before = try kb.search(mode: .hybrid, vector: vector(5), text: "more 13", k: 10, allowed: nil)
        }
        XCTAssertEqual(before.count, 10)
        XCTAssertEqual(try open().search(mode: .hybrid, vector: vector(5), text: "more 13", k: 10, allowed: nil), before)
    }

    func runAnotherEmbedderIsRefusedWithInstructions() throws {
        _ = try open()
        XCTAssertThrowsError(try open(EmbedderIdentity(name: "other", dimension: 8))) { error in
            XCTAssertTrue("\(error)".contains("rag reembed"), "\(error)")
            XCTAssertTrue("\(error)".contains("test-encoder"), "\(error)")
        }
        let kb = try open()
        XCTAssertThrowsError(try kb.put(DocumentRecord(path: "bad.md", source: "upload", kind: "markdown", bytes: 1, mtimeNanoseconds: 1,
                                                       contentHash: "h", pages: nil, title: nil,
                                                       chunks: [ChunkRecord(text: "x", page: nil, section: nil, charStart: 0, charEnd: 1,
                                                                            tokens: 1, vector: [1, 0, 0])]))) { error in
            XCTAssertTrue("\(error)".contains("bad.md"), "\(error)")
        }
        XCTAssertEqual(try kb.stats().documents, 0, "a refused document leaves nothing behind")
    }

    func runGlobFilterAlwaysFillsK() throws {
        let kb = try open()
        for i in 0..<30 { try kb.put(record("notes/n\(i).md", texts: ["note \(i) shared"], axis: i)) }
        for i in 0..<30 { try kb.put(record("papers/p\(i).pdf", texts: ["paper \(i) shared"], axis: i)) }
        let allowed = try kb.chunkIDs(matching: "papers/**")
        XCTAssertEqual(allowed.count, 30)
        for mode in SearchMode.allCases {
            let hits = try kb.search(mode: mode, vector: vector(2), text: "shared", k: 10, allowed: allowed)
            XCTAssertEqual(hits.count, 10, "\(mode)")
            XCTAssertTrue(try kb.chunks(hits.map(\.label)).values.allSatisfy { $0.path.hasPrefix("papers/") }, "\(mode)")
        }
    }

    func runSettings() throws {
        let kb = try open()
        XCTAssertNil(try kb.setting("root"))
        try kb.setSetting("root", "/a")
        try kb.setSetting("root", "/b")
        XCTAssertEqual(try open().setting("root"), "/b")
    }

    /// Two writers at once (two connections, as two processes have): documents of both are all
    /// kept, and writers of the same document leave exactly one whole version.
    func runConcurrentWriters() throws {
        let first = try open(), second = try open()
        let writes = (0..<2).map { w in
            (0..<12).flatMap { i in
                [record("w\(w)-\(i).md", texts: ["writer \(w) doc \(i)", "second chunk"], axis: i),
                 record("same.md", texts: ["version of writer \(w) at \(i)", "b", "c"], axis: i)]
            }
        }
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            let kb = w == 0 ? first : second
            for doc in writes[w] { _ = try? kb.put(doc) }
        }
        let docs = try first.documents()
        XCTAssertEqual(docs.count, 25, docs.map(\.path).joined(separator: ", "))
        XCTAssertEqual(try first.stats().chunks, 24 * 2 + 3)
        XCTAssertEqual(try location().check(), [])
    }

    /// SQLite: `compact` gives back the space of deleted documents. (PostgreSQL leaves it to
    /// autovacuum: its override checks that compact changes nothing.)
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
        XCTAssertEqual(try location().check(), [])
    }

    // MARK: the tests (each store class names its own, so both run under their own names)

    func testPutSearchReplaceRemove() throws { try runPutSearchReplaceRemove() }
    func testChunksAndSimilarities() throws { try runChunksAndSimilarities() }
    func testReopenGivesIdenticalResults() throws { try runReopenGivesIdenticalResults() }
    func testAnotherEmbedderIsRefusedWithInstructions() throws { try runAnotherEmbedderIsRefusedWithInstructions() }
    func testGlobFilterAlwaysFillsK() throws { try runGlobFilterAlwaysFillsK() }
    func testSettings() throws { try runSettings() }
    func testConcurrentWriters() throws { try runConcurrentWriters() }
}
