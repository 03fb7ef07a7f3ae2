import XCTest
@testable import VectorIndex

final class HNSWDeleteTests: XCTestCase {
    private func assertNoLinksTo(freed: Set<Int32>, in index: HNSWIndex, file: StaticString = #filePath,
                                 line: UInt = #line) {
        let g = index.graph
        for slot in 0..<Int32(g.slotCount) where g.levels[Int(slot)] >= 0 {
            for level in 0...Int(g.levels[Int(slot)]) {
                let links = g.links(slot, level: level)
                XCTAssertFalse(links.contains(where: freed.contains), "slot \(slot) layer \(level) links a deleted node",
                               file: file, line: line)
                XCTAssertFalse(links.contains(slot), "slot \(slot) links itself", file: file, line: line)
                for n in links { XCTAssertGreaterThanOrEqual(g.levels[Int(n)], Int32(level), file: file, line: line) }
            }
        }
    }

    func testDeleteRepairsNeighboursAndKeepsRecall() throws {
        var data = ClusteredData(dimension: 32, clusters: 30, seed: 11)
        let index = try HNSWIndex(dimension: 32, metric: .l2)
        for (i, v) in data.samples(4_000).enumerated() { try index.insert(v, label: Int64(i)) }
        let slotCountBefore = index.graph.slotCount
        let entryLabel = index.graph.labels[Int(index.graph.entryPoint)]

        // Delete a quarter, including the entry point, in a few batches.
        var deleted = Set((0..<4_000).filter { $0 % 4 == 1 }.map(Int64.init))
        deleted.insert(entryLabel)
        let freed = Set(deleted.map { index.graph.slotOfLabel[$0]! })
        let ordered = deleted.sorted()
        for chunk in stride(from: 0, to: ordered.count, by: 250) {
            try index.remove(labels: ordered[chunk..<min(chunk + 250, ordered.count)])
        }
        XCTAssertEqual(index.count, 4_000 - deleted.count)
        assertNoLinksTo(freed: freed, in: index)
        XCTAssertTrue(index.graph.isAlive(index.graph.entryPoint))
        XCTAssertEqual(index.graph.maxLevel, Int(index.graph.levels.max()!))

        let queries = data.samples(100)
        for q in queries {
            XCTAssertTrue(try index.search(q, k: 10).allSatisfy { !deleted.contains($0.label) })
        }
        let afterDelete = try recall(index, queries: queries, k: 10)
        XCTAssertGreaterThanOrEqual(afterDelete, 0.95, "recall after deletes \(afterDelete)")

        // New inserts reuse the freed slots instead of growing the buffers.
        for (i, v) in data.samples(deleted.count).enumerated() { try index.insert(v, label: Int64(10_000 + i)) }
        XCTAssertEqual(index.graph.slotCount, slotCountBefore)
        XCTAssertTrue(index.graph.freeSlots.isEmpty)
        let afterReinsert = try recall(index, queries: queries, k: 10)
        XCTAssertGreaterThanOrEqual(afterReinsert, 0.95, "recall after re-inserts \(afterReinsert)")
        for q in queries {
            XCTAssertTrue(try index.search(q, k: 20, efSearch: 100).allSatisfy { !deleted.contains($0.label) })
        }
        assertNoLinksTo(freed: [], in: index)
    }

    func testDeletingEverythingEmptiesTheIndex() throws {
        var data = ClusteredData(dimension: 8, clusters: 3, seed: 12)
        let index = try HNSWIndex(dimension: 8, metric: .cosine)
        for (i, v) in data.samples(200).enumerated() { try index.insert(v, label: Int64(i)) }
        try index.remove(labels: (0..<100).map(Int64.init))
        try index.remove(labels: (100..<200).map(Int64.init))
        XCTAssertEqual(index.count, 0)
        XCTAssertEqual(index.graph.entryPoint, -1)
        XCTAssertEqual(try index.search(data.sample(), k: 3), [])
        try index.insert(data.sample(), label: 5)
        XCTAssertEqual(try index.search(data.sample(), k: 3).map(\.label), [5])
    }
}
