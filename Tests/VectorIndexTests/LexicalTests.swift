import XCTest
@testable import VectorIndex

final class LexicalTests: XCTestCase {
    private func makeDatabase() throws -> (Database, LexicalIndex) {
        let db = try Database(path: temporaryDatabasePath())
        let lexical = LexicalIndex()
        try lexical.createTables(in: db)
        return (db, lexical)
    }

    func testBM25RanksByTermFrequencyAndRarity() throws {
        let (db, lexical) = try makeDatabase()
        try db.transaction {
            try lexical.insert(chunkID: 1, text: "The cat sat on the mat.", in: db)
            try lexical.insert(chunkID: 2, text: "Cats and dogs. A cat, another cat, and one more cat!", in: db)
            try lexical.insert(chunkID: 3, text: "Dogs bark at night.", in: db)
            try lexical.insert(chunkID: 4, text: "A café in Zürich serves crème brûlée.", in: db)
        }
        // "cat" occurs 3× in chunk 2 (longer) and once in chunk 1: BM25 puts 2 first; 3 has no "cat".
        XCTAssertEqual(try lexical.search("cat", k: 10, in: db).map(\.chunkID), [2, 1])
        // OR semantics: "night" only matches 3; chunks with "cat" follow.
        let hits = try lexical.search("night cat", k: 10, in: db)
        XCTAssertEqual(Set(hits.map(\.chunkID)), [1, 2, 3])
        XCTAssertEqual(hits.map(\.score), hits.map(\.score).sorted(by: >))
        // remove_diacritics 2: "creme brulee zurich" finds the accented text.
        XCTAssertEqual(try lexical.search("creme brulee zurich", k: 10, in: db).map(\.chunkID), [4])
        XCTAssertEqual(try lexical.search("cat", k: 10, allowed: [1, 3], in: db).map(\.chunkID), [1])
        try db.transaction { try lexical.remove(chunkIDs: [2], in: db) }
        XCTAssertEqual(try lexical.search("cat", k: 10, in: db).map(\.chunkID), [1])
    }

    func testCJKQueriesUseTrigramTable() throws {
        let (db, lexical) = try makeDatabase()
        try db.transaction {
            try lexical.insert(chunkID: 10, text: "東京都庁は新宿にあります。", in: db)
            try lexical.insert(chunkID: 11, text: "大阪城は大阪にあります。", in: db)
            try lexical.insert(chunkID: 12, text: "北京是中国的首都。", in: db)
            try lexical.insert(chunkID: 13, text: "Tokyo is the capital of Japan.", in: db)
        }
        XCTAssertEqual(try lexical.search("新宿にある建物", k: 5, in: db).first?.chunkID, 10)
        XCTAssertEqual(try lexical.search("中国的首都是哪里", k: 5, in: db).map(\.chunkID), [12])
        // Two-character words cannot be trigram-matched: substring fallback.
        XCTAssertEqual(try lexical.search("大阪", k: 5, in: db).map(\.chunkID), [11])
        XCTAssertEqual(try lexical.search("capital", k: 5, in: db).map(\.chunkID), [13])
        try db.transaction { try lexical.remove(chunkIDs: [12], in: db) }
        XCTAssertEqual(try lexical.search("中国的首都", k: 5, in: db), [])
    }

    func testHostileQueriesDoNotThrow() throws {
        let (db, lexical) = try makeDatabase()
        try db.transaction {
            try lexical.insert(chunkID: 1, text: "near the fox AND the hound OR not", in: db)
            try lexical.insert(chunkID: 2, text: "SELECT * FROM users; DROP TABLE x", in: db)
        }
        let hostile = ["\"", "\"\"\"", "NEAR(", "NEAR(fox hound", "fox*", "*", "-fox", "- -", "((fox", "fox))",
                       "AND", "OR OR", "NOT fox", "text:fox", "^fox", "{fox}", "fox + hound", "'; DROP TABLE x; --",
                       "", "   ", "\\", "\u{0}", "東\"京(", "NEAR(\"東京\" 大阪, 3)", "a\"b", "col:*", "🙂"]
        for q in hostile {
            XCTAssertNoThrow(try lexical.search(q, k: 5, in: db), "query \(q.debugDescription)")
        }
        XCTAssertEqual(try lexical.search("NEAR(fox", k: 5, in: db).map(\.chunkID), [1])
        XCTAssertEqual(try lexical.search("DROP TABLE x; --", k: 5, in: db).map(\.chunkID), [2])
    }

    func testQueryBuilderQuotesEveryTerm() {
        XCTAssertEqual(FTSQuery.wordQuery("NEAR(fox \"hound\" -cat*"), "\"NEAR\" OR \"fox\" OR \"hound\" OR \"cat\"")
        XCTAssertNil(FTSQuery.wordQuery("* - ( ) \""))
        XCTAssertEqual(FTSQuery.wordQuery("How do I read a file in Python?"), "\"read\" OR \"file\" OR \"Python\"")
        XCTAssertEqual(FTSQuery.wordQuery("what is it"), "\"what\" OR \"is\" OR \"it\"", "a query of function words only keeps them")
        XCTAssertEqual(FTSQuery.trigramQuery("東京都庁").match, "\"東京都\" OR \"京都庁\"")
        XCTAssertEqual(FTSQuery.trigramQuery("東京 大阪").short, ["東京", "大阪"])
    }
}
