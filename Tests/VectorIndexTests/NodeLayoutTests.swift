import XCTest
@testable import VectorIndex

/// The node blocks (vector, then level-0 list, 64-byte padded) through growth, save and reload.
final class NodeLayoutTests: XCTestCase {
    /// An index that starts at the smallest capacity grows its node buffer many times (past the
    /// 2 MiB huge-page size): every vector and list must survive the moves, and exact search on
    /// the padded rows must equal brute force computed here.
    func testGrowthKeepsVectorsListsAndExactDistances() throws {
        let dim = 197  // not a multiple of 16: the vector part is padded
        var data = ClusteredData(dimension: dim, clusters: 12, seed: 51)
        let vectors = data.samples(3_000)
        let parameters = HNSWParameters(M: 8, efConstruction: 40)
        let index = try HNSWIndex(dimension: dim, metric: .l2, parameters: parameters, capacity: 16)
        let unmoved = try HNSWIndex(dimension: dim, metric: .l2, parameters: parameters, capacity: 3_000)
        for (i, v) in vectors.enumerated() {
            try index.insert(v, label: Int64(i))
            try unmoved.insert(v, label: Int64(i))
        }
        XCTAssertGreaterThan(index.graph.capacity * index.graph.nodeBytes, 2 << 20)
        XCTAssertEqual(index.graph.nodeBytes % 64, 0)
        for i in stride(from: 0, to: 3_000, by: 7) { XCTAssertEqual(index.vector(for: Int64(i)), vectors[i]) }
        // Same seed, same inserts: the graph that moved while growing equals the one that never moved.
        XCTAssertEqual(index.graph.levels, unmoved.graph.levels)
        for slot in 0..<Int32(3_000) {
            for level in 0...Int(index.graph.levels[Int(slot)]) {
                XCTAssertEqual(index.graph.links(slot, level: level), unmoved.graph.links(slot, level: level))
            }
        }

        let q = data.sample()
        let brute = vectors.enumerated().map { i, v in
            (label: Int64(i), d: zip(q, v).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) })
        }.sorted { $0.d < $1.d }.prefix(10)
        let exact = try index.exactSearch(q, k: 10)
        XCTAssertEqual(exact.map(\.label), brute.map(\.label))
        for (e, b) in zip(exact, brute) { XCTAssertEqual(e.distance, b.d, accuracy: 1e-3 * max(1, b.d)) }
    }

    /// Graph search on a layout-reloaded index returns exactly what the built one returned, for
    /// the metric with padding in both parts of the block.
    func testReloadedIndexSearchesIdentically() throws {
        let dim = 50
        var data = ClusteredData(dimension: dim, clusters: 8, seed: 52)
        let index = try HNSWIndex(dimension: dim, metric: .l2, parameters: HNSWParameters(M: 5, efConstruction: 50))
        for (i, v) in data.samples(2_000).enumerated() { try index.insert(v, label: Int64(i) * 3) }
        let path = temporaryDatabasePath()
        do {
            let db = try Database(path: path)
            try db.transaction { try index.save(to: db) }
        }
        let reopened = try XCTUnwrap(try HNSWIndex.load(from: Database(path: path, mode: .readOnly)))
        for q in data.samples(40) {
            for ef in [10, 80] {
                XCTAssertEqual(try reopened.search(q, k: 10, efSearch: ef), try index.search(q, k: 10, efSearch: ef))
            }
            XCTAssertEqual(try reopened.exactSearch(q, k: 5), try index.exactSearch(q, k: 5))
        }
    }
}
