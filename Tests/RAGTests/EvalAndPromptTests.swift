import XCTest
@testable import RAG

final class RetrievalMetricsTests: XCTestCase {
    func testPerfectAndMissedRankings() {
        let perfect = RetrievalScores(ranked: ["a", "b", "c"], relevant: ["a"])
        XCTAssertEqual(perfect.hitAt1, 1); XCTAssertEqual(perfect.mrrAt10, 1); XCTAssertEqual(perfect.ndcgAt10, 1, accuracy: 1e-12)
        let missed = RetrievalScores(ranked: ["x", "y"], relevant: ["a"])
        XCTAssertEqual(missed.hitAt10, 0); XCTAssertEqual(missed.mrrAt10, 0); XCTAssertEqual(missed.ndcgAt10, 0)
    }

    func testDuplicatesCountOnceAndRankMatters() {
        // distinct order: x, a, y, b → a at rank 2, b at rank 4
        let s = RetrievalScores(ranked: ["x", "x", "a", "y", "a", "b"], relevant: ["a", "b"])
        XCTAssertEqual(s.hitAt1, 0); XCTAssertEqual(s.hitAt5, 1)
        XCTAssertEqual(s.mrrAt10, 0.5, accuracy: 1e-12)
        let dcg = 1 / log2(3.0) + 1 / log2(5.0), idcg = 1 + 1 / log2(3.0)
        XCTAssertEqual(s.ndcgAt10, dcg / idcg, accuracy: 1e-12)
        XCTAssertEqual(s.recallAt10, 1)
    }
}

final class AnswerMetricsTests: XCTestCase {
    func testNormalisationAndF1() {
        XCTAssertEqual(AnswerMetrics.normalizedTokens("The rank is 0.95."), ["rank", "is", "0.95"])
        XCTAssertEqual(AnswerMetrics.f1(prediction: "rank 16", reference: "16"), 2 * 0.5 * 1 / 1.5, accuracy: 1e-12)
        XCTAssertTrue(AnswerMetrics.exactMatch(prediction: "The LoRA!", reference: "lora"))
        XCTAssertEqual(AnswerMetrics.normalizedTokens("低秩适配"), ["低", "秩", "适", "配"])
    }

    func testContains() {
        XCTAssertTrue(AnswerMetrics.contains("We set efSearch to 64 by default.", answer: "64"))
        XCTAssertFalse(AnswerMetrics.contains("We set efSearch to 640.", answer: "64"))
        XCTAssertTrue(AnswerMetrics.contains("检索增强生成很有用", answer: "增强生成"))
    }

    func testSummaryCountsKeyFactsAndFirstCitationsOverAnswerableQuestionsAndNoHollowCitations() {
        func record(answerable: Bool, keyFact: Bool, cited: Bool, first: Bool, refused: Bool = false) -> AnswerEvalRecord {
            AnswerEvalRecord(id: nil, question: "q", reference: answerable ? "r" : nil, answer: "a", answerable: answerable,
                             refused: refused, f1: 0, exactMatch: false, keyFactMatch: keyFact, citedContainsAnswer: cited,
                             firstCitedContainsAnswer: first, citationsRenumbered: 0, citationAdded: false, latencyMs: 1)
        }
        let s = AnswerEvaluation.summarize([
            record(answerable: true, keyFact: true, cited: true, first: true),
            record(answerable: true, keyFact: true, cited: true, first: false),   // the fact is in the second cited passage
            record(answerable: true, keyFact: false, cited: false, first: false),
            record(answerable: true, keyFact: false, cited: false, first: false),
            record(answerable: true, keyFact: false, cited: true, first: true, refused: true),   // "The passages don't say [1]."
            record(answerable: false, keyFact: false, cited: false, first: false, refused: true),
        ])
        XCTAssertEqual(s.keyFactMatch, 0.4)
        XCTAssertEqual(s.citationAccuracy, 0.4, "a declining answer earns no citation credit")
        XCTAssertEqual(s.firstCitationAccuracy, 0.2)
        XCTAssertEqual(s.falseRefusalRate, 0.2)
        XCTAssertEqual(s.refusalAccuracy, 1)
    }
}

final class PromptTests: XCTestCase {
    let passages = [
        Passage(n: 1, file: "a.md", page: nil, section: "Intro", score: 0.9, text: "alpha beta", chunkID: 7),
        Passage(n: 2, file: "b.pdf", page: 3, section: nil, score: 0.5, text: String(repeating: "word ", count: 50), chunkID: 9),
    ]

    func testRenderingNamesSources() {
        let msg = PromptTemplate.standard.userMessage(passages: passages, question: "what?")
        XCTAssertTrue(msg.contains("[1] (a.md, Intro)\nalpha beta"))
        XCTAssertTrue(msg.contains("[2] (b.pdf, page 3)"))
        XCTAssertTrue(msg.hasSuffix("Question: what?"))
    }

    func testFitDropsPassagesNeverTheQuestion() {
        let count: (String) -> Int = { $0.split(separator: " ").count }
        let t = PromptTemplate.standard
        let fixed = count(t.system) + count(t.userMessage(passages: [], question: "q"))
        XCTAssertEqual(t.fit(passages: passages, question: "q", budget: fixed + 10, countTokens: count)?.map(\.n), [1])
        XCTAssertEqual(t.fit(passages: passages, question: "q", budget: fixed + 1000, countTokens: count)?.map(\.n), [1, 2])
        XCTAssertNil(t.fit(passages: passages, question: "q", budget: fixed - 1, countTokens: count))
    }

    func testTemplateFileErrorsNameTheFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(UUID()).txt")
        try "[system]\nBe brief.\n[user]\n{{passages}}\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PromptTemplate(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains(url.path)); XCTAssertTrue("\(error)".contains("{{question}}"))
        }
        try "[system]\nBe brief.\n[user]\nQ: {{question}}\n{{passages}}\n".write(to: url, atomically: true, encoding: .utf8)
        let t = try PromptTemplate(contentsOf: url)
        XCTAssertEqual(t.system, "Be brief.")
    }

    func testCitations() {
        XCTAssertEqual(Citations.cited(in: "Yes [2]. Also [1, 3] and [2][4-5] [x] [9]", passageCount: 5), [2, 1, 3, 4, 5])
        XCTAssertEqual(Citations.cited(in: "no brackets", passageCount: 3), [])
    }
}
