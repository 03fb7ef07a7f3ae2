import SeededRandom
import XCTest
@testable import VectorIndex

final class PersistenceTests: XCTestCase {
    private func build(_ n: Int, data: inout ClusteredData) throws -> HNSWIndex {
        let index = try HNSWIndex(dimension: 24, metric: .cosine, parameters: HNSWParameters(M: 8, efConstruction: 64))
        for (i, v) in data.samples(n).enumerated() { try index.insert(v, label: Int64(i) + 100) }
        return index
    }

    private func assertSameResults(_ a: HNSWIndex, _ b: HNSWIndex, queries: [[Float]],
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        for q in queries {
            XCTAssertEqual(try a.search(q, k: 10), try b.search(q, k: 10), file: file, line: line)
        }
    }

    private func assertSameGraph(_ a: HNSWIndex, _ b: HNSWIndex, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.graph.slotCount, b.graph.slotCount, file: file, line: line)
        XCTAssertEqual(a.graph.levels, b.graph.levels, file: file, line: line)
        XCTAssertEqual(a.graph.entryPoint, b.graph.entryPoint, file: file, line: line)
        XCTAssertEqual(a.graph.slotOfLabel, b.graph.slotOfLabel, file: file, line: line)
        for slot in 0..<Int32(a.graph.slotCount) where a.graph.levels[Int(slot)] >= 0 {
            for l in 0...Int(a.graph.levels[Int(slot)]) {
                XCTAssertEqual(a.graph.links(slot, level: l), b.graph.links(slot, level: l), file: file, line: line)
            }
        }
    }

    func testSaveCloseReopenGivesIdenticalResults() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 31)
        let index = try build(1_500, data: &data)
        let path = temporaryDatabasePath()
        do {
            let db = try Database(path: path)
            try db.transaction { try index.save(to: db) }
        }
        let reopened = try XCTUnwrap(try HNSWIndex.load(from: Database(path: path, mode: .readOnly)))
        XCTAssertEqual(reopened.parameters, index.parameters)
        XCTAssertEqual(reopened.metric, .cosine)
        assertSameGraph(index, reopened)
        try assertSameResults(index, reopened, queries: data.samples(50))
        // The generator state was stored too: the same next insert builds the same node.
        let v = data.sample()
        try index.insert(v, label: 1)
        try reopened.insert(v, label: 1)
        assertSameGraph(index, reopened)
    }

    /// The stored generator state is SplitMix64's (seed + n·γ after n inserts) and node levels are
    /// ⌊−ln U · mL⌋ of its draws, U = (top 53 bits + 1) / 2⁵³: bases written by earlier versions
    /// keep growing the graph they would have grown.
    func testGeneratorStateAndLevelsFollowSplitMix64() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 35)
        let index = try build(300, data: &data)
        let db = try Database(path: temporaryDatabasePath())
        try db.transaction { try index.save(to: db) }
        let stored = try db.query("SELECT value FROM vector_index_meta WHERE key = 'generator_state'") { $0.int64(0) }
        XCTAssertEqual(stored, [Int64(bitPattern: 42 &+ 300 &* 0x9E37_79B9_7F4A_7C15)])
        var draws = SplitMix64(seed: 42)
        let mL = 1 / log(8.0)
        let expected = (0..<300).map { _ in Int32(-log(Double((draws.next() >> 11) + 1) / 9_007_199_254_740_992) * mL) }
        XCTAssertEqual(index.graph.levels, expected)
        XCTAssertGreaterThan(expected.max() ?? 0, 0)
    }

    func testIncrementalUpdatesWriteOnlyDirtyNodesAndReloadEqual() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 32)
        let index = try build(800, data: &data)
        let path = temporaryDatabasePath()
        let db = try Database(path: path)
        try db.transaction { try index.save(to: db) }
        let newVectors = data.samples(50)
        try db.transaction {
            try index.update(in: db) { ix in
                try ix.remove(labels: (100..<160).map(Int64.init))
                for (i, v) in newVectors.enumerated() { try ix.insert(v, label: 5_000 + Int64(i)) }
            }
        }
        XCTAssertTrue(index.dirty.isEmpty)
        let rows = try db.query("SELECT count(*) FROM vector_index_node") { $0.int(0) }
        XCTAssertEqual(rows, [790])
        let reopened = try XCTUnwrap(try HNSWIndex.load(from: Database(path: path, mode: .readOnly)))
        assertSameGraph(index, reopened)
        try assertSameResults(index, reopened, queries: data.samples(30))
    }

    /// Within one update, two labels trade slots (their rows are replaced) and a third is removed
    /// and re-inserted with another vector into its old slot (its row is rewritten in place, the
    /// label's index entry kept): the stored rows equal memory, vectors included.
    func testLabelsMovingBetweenSlotsReloadEqual() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 36)
        let index = try build(300, data: &data)
        let db = try Database(path: temporaryDatabasePath())
        try db.transaction { try index.save(to: db) }
        let slotsBefore = index.graph.slotOfLabel
        let fresh = data.samples(3)
        try index.update(in: db) { ix in
            try ix.remove(100)
            try ix.remove(101)
            try ix.insert(fresh[0], label: 100)
            try ix.insert(fresh[1], label: 101)
            try ix.remove(102)
            try ix.insert(fresh[2], label: 102)
        }
        XCTAssertEqual(index.graph.slotOfLabel[100], slotsBefore[101])
        XCTAssertEqual(index.graph.slotOfLabel[101], slotsBefore[100])
        XCTAssertEqual(index.graph.slotOfLabel[102], slotsBefore[102])
        XCTAssertEqual(try db.query("SELECT count(*) FROM vector_index_node") { $0.int(0) }, [300])
        let reloaded = try XCTUnwrap(try HNSWIndex.load(from: db))
        assertSameGraph(index, reloaded)
        for label in index.labels { XCTAssertEqual(reloaded.vector(for: label), index.vector(for: label), "label \(label)") }
        XCTAssertEqual(reloaded.vector(for: 102), index.vector(for: 102))
        XCTAssertNotEqual(reloaded.vector(for: 100), index.vector(for: 101))
    }

    func testRollbackRestoresMemoryToMatchDisk() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 33)
        let index = try build(600, data: &data)
        let path = temporaryDatabasePath()
        let db = try Database(path: path)
        try db.execute("CREATE TABLE chunk(id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        try db.transaction { try index.save(to: db) }
        let queries = data.samples(30)
        let before = try queries.map { try index.search($0, k: 10) }
        let extra = data.samples(40)

        struct Abort: Error {}
        // The index update succeeds and is written, then the caller's transaction fails later.
        XCTAssertThrowsError(try db.transaction {
            try index.update(in: db) { ix in
                try ix.remove(labels: (100..<130).map(Int64.init))
                for (i, v) in extra.enumerated() { try ix.insert(v, label: 9_000 + Int64(i)) }
            }
            try db.run("INSERT INTO chunk(id, text) VALUES (1, 'a')")
            throw Abort()
        })
        XCTAssertEqual(index.count, 600)
        XCTAssertTrue(index.contains(100))
        XCTAssertFalse(index.contains(9_000))
        XCTAssertEqual(try queries.map { try index.search($0, k: 10) }, before)
        XCTAssertEqual(try db.query("SELECT count(*) FROM chunk") { $0.int(0) }, [0])
        let onDisk = try XCTUnwrap(try HNSWIndex.load(from: db))
        assertSameGraph(index, onDisk)

        // A throw inside the update body undoes too; afterwards a committed update is written.
        XCTAssertThrowsError(try db.transaction {
            try index.update(in: db) { ix in
                try ix.insert(extra[0], label: 77)
                try ix.remove(5)  // unknown label: throws
            }
        })
        XCTAssertFalse(index.contains(77))
        try db.transaction {
            try index.update(in: db) { ix in try ix.insert(extra[1], label: 78) }
            try db.run("INSERT INTO chunk(id, text) VALUES (78, 'b')")
        }
        let reloaded = try XCTUnwrap(try HNSWIndex.load(from: db))
        assertSameGraph(index, reloaded)
        XCTAssertTrue(reloaded.contains(78))
    }

    func testSavepointRollbackUndoesOnlyItsOwnChanges() throws {
        var data = ClusteredData(dimension: 24, clusters: 10, seed: 34)
        let index = try build(200, data: &data)
        let db = try Database(path: temporaryDatabasePath())
        try db.transaction { try index.save(to: db) }
        let (a, b) = (data.sample(), data.sample())
        try db.transaction {
            try index.update(in: db) { try $0.insert(a, label: 1) }
            _ = try? db.savepoint {
                try index.update(in: db) { try $0.insert(b, label: 2) }
                throw VectorIndexError.invalidParameter("abort savepoint")
            }
        }
        XCTAssertTrue(index.contains(1))
        XCTAssertFalse(index.contains(2))
        assertSameGraph(index, try XCTUnwrap(try HNSWIndex.load(from: db)))
    }
}
