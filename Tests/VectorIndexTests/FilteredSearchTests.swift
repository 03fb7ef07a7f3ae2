import XCTest
@testable import VectorIndex

final class FilteredSearchTests: XCTestCase {
    private func makeIndex() throws -> (HNSWIndex, ClusteredData) {
        var data = ClusteredData(dimension: 16, clusters: 20, seed: 21)
        let index = try HNSWIndex(dimension: 16, metric: .l2)
        for (i, v) in data.samples(5_000).enumerated() { try index.insert(v, label: Int64(i)) }
        return (index, data)
    }

    func testFilteredSearchReturnsKWhenKExist() throws {
        var (index, data) = try makeIndex()
        let q = data.sample()
        // A small explicit set (exact path), exactly k members.
        let small: Set<Int64> = [3, 999, 1234, 4000, 4999]
        let hitsSmall = try index.search(q, k: 5, filter: .labels(small))
        XCTAssertEqual(Set(hitsSmall.map(\.label)), small)
        // A selective predicate (graph path with growing ef): 1 label in 97.
        let predicate: SearchFilter = .predicate { $0 % 97 == 0 }
        let hits = try index.search(q, k: 10, filter: predicate)
        XCTAssertEqual(hits.count, 10)
        XCTAssertTrue(hits.allSatisfy { $0.label % 97 == 0 })
        let exact = try index.exactSearch(q, k: 10, filter: predicate)
        XCTAssertGreaterThanOrEqual(Set(hits.map(\.label)).intersection(exact.map(\.label)).count, 9)
        // A large set (graph path) returns only members, sorted by distance.
        let half = Set((0..<5_000).filter { $0 % 2 == 0 }.map(Int64.init))
        let hitsHalf = try index.search(q, k: 10, filter: .labels(half))
        XCTAssertEqual(hitsHalf.count, 10)
        XCTAssertTrue(hitsHalf.allSatisfy { half.contains($0.label) })
        XCTAssertEqual(hitsHalf.map(\.distance), hitsHalf.map(\.distance).sorted())
    }

    func testFilterWithFewerThanKMatchesReturnsAllMatches() throws {
        var (index, data) = try makeIndex()
        let hits = try index.search(data.sample(), k: 10, filter: .predicate { $0 == 17 || $0 == 4242 })
        XCTAssertEqual(Set(hits.map(\.label)), [17, 4242])
        XCTAssertEqual(try index.search(data.sample(), k: 10, filter: .labels([])), [])
    }
}
