import XCTest
@testable import VectorIndex

final class FusionTests: XCTestCase {
    /// Worked by hand with k = 60:
    ///   A: 1/61 + 1/63 = 0.032266   B: 1/62 + 1/61 = 0.032523   C: 1/63 = 0.015873
    ///   D: 1/62 = 0.016129          E: 1/64 = 0.015625
    func testReciprocalRankFusionOnHandMadeExample() {
        let vector: [Int64] = [1, 2, 3]      // A B C
        let lexical: [Int64] = [2, 4, 1, 5]  // B D A E
        let fused = RankFusion.reciprocalRank([vector, lexical])
        XCTAssertEqual(fused.map(\.label), [2, 1, 4, 3, 5])
        XCTAssertEqual(fused[0].score, 1.0 / 62 + 1.0 / 61, accuracy: 1e-12)
        XCTAssertEqual(fused[1].score, 1.0 / 61 + 1.0 / 63, accuracy: 1e-12)
        XCTAssertEqual(fused[0].ranks, [2, 1])
        XCTAssertEqual(fused[2].ranks, [nil, 2])
        XCTAssertEqual(RankFusion.reciprocalRank([vector, lexical], limit: 2).map(\.label), [2, 1])
    }

    func testTiesBreakByBestRankThenLabel() {
        // 7 and 9 both score 1/61 + 1/62; 9 and 7 each have a best rank of 1 → smaller label first.
        let fused = RankFusion.reciprocalRank([[9, 7], [7, 9]])
        XCTAssertEqual(fused.map(\.label), [7, 9])
        XCTAssertEqual(fused[0].score, fused[1].score)
    }

    func testHybridSearchFusesBothIndexes() throws {
        let db = try Database(path: temporaryDatabasePath())
        let lexical = LexicalIndex()
        try lexical.createTables(in: db)
        let index = try HNSWIndex(dimension: 3, metric: .cosine)
        let docs: [(Int64, [Float], String)] = [
            (1, [1, 0, 0], "alpha apples"), (2, [0.9, 0.1, 0], "bananas"), (3, [0, 1, 0], "alpha alpha cherries"),
            (4, [0, 0, 1], "dates"),
        ]
        try db.transaction {
            try index.update(in: db) { ix in for (id, v, _) in docs { try ix.insert(v, label: id) } }
            for (id, _, text) in docs { try lexical.insert(chunkID: id, text: text, in: db) }
        }
        let search = HybridSearch(index: index, lexical: lexical)
        XCTAssertEqual(try search.search(mode: .vector, vector: [1, 0, 0], text: "alpha", k: 2, in: db).map(\.label), [1, 2])
        XCTAssertEqual(try search.search(mode: .lexical, vector: [1, 0, 0], text: "alpha", k: 2, in: db).map(\.label), [3, 1])
        // Vector ranks 1,2,3,4 and lexical ranks 3,1: label 1 (1st + 2nd) leads, then 3 (3rd + 1st).
        let hybrid = try search.search(mode: .hybrid, vector: [1, 0, 0], text: "alpha", k: 3, in: db)
        XCTAssertEqual(hybrid.map(\.label), [1, 3, 2])
        XCTAssertEqual(try search.search(mode: .hybrid, vector: [1, 0, 0], text: "alpha", k: 3, allowed: [2, 3], in: db)
            .map(\.label), [3, 2])
    }
}
