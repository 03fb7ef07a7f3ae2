import XCTest
@testable import VectorIndex

final class HNSWRecallTests: XCTestCase {
    /// 20k clustered 64-d vectors at default settings (M 16, efConstruction 200, efSearch 64).
    /// Release builds (CI) use the full 20k; unoptimised debug builds take 5k to stay quick.
    func testRecallAt10AgainstExactSearch() throws {
        let n = sizeForBuild(debug: 5_000, release: 20_000)
        var data = ClusteredData(dimension: 64, clusters: 100, seed: 1)
        let index = try HNSWIndex(dimension: 64, metric: .l2)
        for (i, v) in data.samples(n).enumerated() { try index.insert(v, label: Int64(i)) }
        let r = try recall(index, queries: data.samples(200), k: 10)
        XCTAssertGreaterThanOrEqual(r, 0.95, "recall@10 = \(r) over \(n) vectors")
        XCTAssertEqual(index.count, n)
    }

    /// keepPrunedConnections (off by default) still works and fills lists the heuristic left short:
    /// both settings reach the recall goal, and the filled graph has more level-0 links.
    func testKeepPrunedConnectionsBothWays() throws {
        let n = sizeForBuild(debug: 2_000, release: 4_000)
        var data = ClusteredData(dimension: 32, clusters: 50, seed: 5)
        let vectors = data.samples(n), queries = data.samples(100)
        var linkCounts: [Bool: Int] = [:]
        for keep in [false, true] {
            let index = try HNSWIndex(dimension: 32, metric: .l2,
                                      parameters: HNSWParameters(keepPrunedConnections: keep))
            for (i, v) in vectors.enumerated() { try index.insert(v, label: Int64(i)) }
            let r = try recall(index, queries: queries, k: 10)
            XCTAssertGreaterThanOrEqual(r, 0.95, "keepPrunedConnections \(keep): recall@10 = \(r)")
            linkCounts[keep] = (0..<Int32(n)).reduce(0) { $0 + index.graph.links($1, level: 0).count }
        }
        XCTAssertFalse(HNSWParameters().keepPrunedConnections)
        XCTAssertGreaterThan(linkCounts[true] ?? 0, linkCounts[false] ?? 0)
    }

    func testCosineAndDotRecall() throws {
        for metric in [Metric.cosine, .dot] {
            var data = ClusteredData(dimension: 32, clusters: 40, seed: 2)
            let index = try HNSWIndex(dimension: 32, metric: metric)
            for (i, v) in data.samples(3_000).enumerated() { try index.insert(v, label: Int64(i)) }
            let r = try recall(index, queries: data.samples(100), k: 10)
            XCTAssertGreaterThanOrEqual(r, 0.95, "\(metric) recall@10 = \(r)")
        }
    }

    func testNearestOfAStoredVectorIsItself() throws {
        var data = ClusteredData(dimension: 16, clusters: 10, seed: 3)
        let index = try HNSWIndex(dimension: 16, metric: .cosine)
        let vectors = data.samples(500)
        for (i, v) in vectors.enumerated() { try index.insert(v, label: Int64(i) * 7) }
        for i in stride(from: 0, to: 500, by: 37) {
            let hit = try XCTUnwrap(try index.search(vectors[i], k: 1).first)
            XCTAssertEqual(hit.label, Int64(i) * 7)
            XCTAssertEqual(hit.distance, 0, accuracy: 1e-5)
        }
    }

    func testSameSeedBuildsSameGraph() throws {
        var data = ClusteredData(dimension: 8, clusters: 5, seed: 4)
        let vectors = data.samples(300)
        let a = try HNSWIndex(dimension: 8, metric: .l2), b = try HNSWIndex(dimension: 8, metric: .l2)
        for (i, v) in vectors.enumerated() {
            try a.insert(v, label: Int64(i))
            try b.insert(v, label: Int64(i))
        }
        XCTAssertEqual(a.graph.levels, b.graph.levels)
        for slot in 0..<Int32(300) { XCTAssertEqual(a.graph.links(slot, level: 0), b.graph.links(slot, level: 0)) }
    }

    func testBadInputsThrowNamedErrors() throws {
        let index = try HNSWIndex(dimension: 4, metric: .cosine)
        XCTAssertThrowsError(try index.insert([1, 2, 3], label: 1)) {
            XCTAssertEqual($0 as? VectorIndexError, .dimensionMismatch(expected: 4, got: 3, label: 1))
        }
        XCTAssertThrowsError(try index.insert([1, .nan, 0, 0], label: 2)) {
            XCTAssertEqual($0 as? VectorIndexError, .nonFiniteValue(label: 2, position: 1))
        }
        XCTAssertThrowsError(try index.insert([0, 0, 0, 0], label: 3))
        try index.insert([1, 0, 0, 0], label: 4)
        XCTAssertThrowsError(try index.insert([0, 1, 0, 0], label: 4)) {
            XCTAssertEqual($0 as? VectorIndexError, .duplicateLabel(4))
        }
        XCTAssertThrowsError(try index.remove(99)) { XCTAssertEqual($0 as? VectorIndexError, .unknownLabel(99)) }
        XCTAssertEqual(try index.search([1, 0, 0, 0], k: 5).map(\.label), [4])
    }
}
