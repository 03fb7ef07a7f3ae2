import Foundation
import XCTest
@testable import RAG
import Tokenizers

/// Conversations: which turns go into the prompt, what a follow-up retrieves with, and whose
/// system prompt is kept.
final class ConversationTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Follow-up questions of corpus/evaluation/followups.jsonl on the sample corpus: retrieving
    /// with the recent turns finds the source more often than the question alone.
    func testFollowUpsRetrieveBetterWithTheConversation() throws {
        let store = try TempFolder()
        let p = try TestModels.pipeline(in: store.url)
        _ = try p.ingest(folder: Self.root.appendingPathComponent("corpus", isDirectory: true), progress: { _ in })
        let queries = try EvalQuery.load(Self.root.appendingPathComponent("corpus/evaluation/followups.jsonl"))
        XCTAssertGreaterThanOrEqual(queries.count, 40)
        XCTAssertTrue(queries.allSatisfy { !($0.history ?? []).isEmpty }, "every question has a conversation before it")

        let rows = try FollowUpEvaluation.run(p, queries: queries, strategies: [.question, .recentTurns])
        let alone = rows[0].scores, withTurns = rows[1].scores
        print(String(format: "follow-up hit@5: question alone %.3f, with the recent turns %.3f (margin %+.3f); MRR@10 %.3f vs %.3f",
                     alone.hitAt5, withTurns.hitAt5, withTurns.hitAt5 - alone.hitAt5, alone.mrrAt10, withTurns.mrrAt10))
        // Measured: 1.000 against 0.929 (three of the 42 follow-ups are found only with the
        // conversation); the generator's rewrite (`rag eval followups`) gets 0.881.
        XCTAssertGreaterThan(withTurns.hitAt5, alone.hitAt5, "the conversation should help follow-ups")
        XCTAssertGreaterThanOrEqual(withTurns.hitAt5, 0.95)
        XCTAssertGreaterThanOrEqual(withTurns.mrrAt10, alone.mrrAt10)
        XCTAssertEqual(RAGPipeline.Configuration(database: store.url).followUpRetrieval, .recentTurns, "the pipeline uses what measured best")
        // The searched texts are the question alone, and the earlier questions then the question.
        XCTAssertEqual(rows[0].queries[0], queries[0].question)
        XCTAssertEqual(rows[1].queries[0], (queries[0].history?.first?.content ?? "") + "\n" + queries[0].question)
    }

    func testFollowUpQueryJoinsTheLastTwoEarlierQuestions() throws {
        let turns = [
            ChatMessage(role: "system", content: "Be brief."),
            ChatMessage(role: "user", content: "What is BM25?"), ChatMessage(role: "assistant", content: "A ranking function."),
            ChatMessage(role: "user", content: "Who proposed it?"), ChatMessage(role: "assistant", content: "Robertson."),
            ChatMessage(role: "user", content: "What are its two knobs?"), ChatMessage(role: "assistant", content: "k1 and b."),
            ChatMessage(role: "user", content: "And their defaults?"),
        ]
        XCTAssertEqual(try FollowUpRetrieval.recentTurns.query(for: turns, generator: nil),
                       "Who proposed it?\nWhat are its two knobs?\nAnd their defaults?")
        XCTAssertEqual(try FollowUpRetrieval.question.query(for: turns, generator: nil), "And their defaults?")
        // A first question is searched as it is, whatever the strategy.
        let first = [ChatMessage(role: "user", content: "What is BM25?")]
        for s in FollowUpRetrieval.allCases { XCTAssertEqual(try s.query(for: first, generator: nil), "What is BM25?") }
    }

    /// The generator's rewrite is one line of text, not empty, for a real conversation.
    func testRewriteWithTheGeneratorGivesOneQuestion() throws {
        let g = try TestModels.requireGenerator()
        let turns = [ChatMessage(role: "user", content: "What does the KV cache store?"),
                     ChatMessage(role: "assistant", content: "The keys and values of earlier positions [1]."),
                     ChatMessage(role: "user", content: "How big does it get?")]
        let text = try FollowUpRetrieval.rewrite.query(for: turns, generator: g)
        XCTAssertFalse(text.isEmpty)
        XCTAssertFalse(text.contains("\n"), text)
    }

    func testWindowDropsTheOldestTurnsFirstAndKeepsQuestionsWithTheirAnswers() {
        // One token per character keeps the arithmetic visible: each turn costs its length + 4.
        let count = { (s: String) in s.count }
        let turns = [
            ChatMessage(role: "system", content: "sys"),                 // 7, always kept
            ChatMessage(role: "user", content: String(repeating: "a", count: 16)), ChatMessage(role: "assistant", content: String(repeating: "b", count: 16)),
            ChatMessage(role: "user", content: String(repeating: "c", count: 6)), ChatMessage(role: "assistant", content: String(repeating: "d", count: 6)),
            ChatMessage(role: "user", content: "question"),              // 12, always kept
        ]
        XCTAssertEqual(ConversationWindow.fit(turns, budget: 1000, countTokens: count), turns, "everything fits")
        // 7 + 12 + (10 + 10) = 39 fits; the older pair (20 + 20) does not.
        XCTAssertEqual(ConversationWindow.fit(turns, budget: 45, countTokens: count).map(\.content),
                       ["sys", "cccccc", "dddddd", "question"])
        // Room for one more turn is not room for a question with its answer: neither goes in.
        XCTAssertEqual(ConversationWindow.fit(turns, budget: 30, countTokens: count).map(\.content), ["sys", "question"])
        XCTAssertEqual(ConversationWindow.fit(turns, budget: 5, countTokens: count).map(\.content), ["sys", "question"],
                       "the question is never dropped (the prompt check reports it if it is too long)")
    }

    func testTheClientsSystemPromptIsKeptAfterTheTemplatesRules() {
        let t = PromptTemplate.standard
        XCTAssertEqual(t.system(keeping: []), t.system)
        XCTAssertEqual(t.system(keeping: ["You are the help desk of ACME. ", "", "Answer in French."]),
                       t.system + "\n\nYou are the help desk of ACME.\n\nAnswer in French.")
    }

    /// The whole answer path with the real models: a follow-up retrieves its source, earlier turns
    /// and the client's system prompt reach the prompt (more prompt tokens than without them).
    func testAFollowUpIsAnsweredFromTheConversationsDocument() async throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("kv.md", "# The KV cache\n\nThe KV cache stores the keys and values of every earlier position. For a 30-layer model with 3 key/value heads of 64 dimensions it grows by 46 kilobytes per token in 32-bit floats.")
        try docs.write("bm25.md", "# BM25\n\nBM25 ranks documents by term frequency and inverse document frequency; its knobs are k1 = 1.2 and b = 0.75.")
        try docs.write("lora.md", "# LoRA\n\nLoRA learns a low-rank update of a frozen weight matrix, with rank r and scale alpha / r.")
        let p = try TestModels.pipeline(in: store.url, withGenerator: true)
        _ = try p.ingest(folder: docs.url, progress: { _ in })
        let history = [ChatMessage(role: "user", content: "What does the KV cache store?"),
                       ChatMessage(role: "assistant", content: "The keys and values of every earlier position [1].")]
        let followUp = ChatMessage(role: "user", content: "How fast does it grow?")
        let options = GenerationOptions(maxTokens: 8)
        let alone = try await p.answer(AnswerRequest(messages: [followUp], generation: options)) { _ in true }
        let inConversation = try await p.answer(AnswerRequest(messages: history + [followUp], generation: options)) { _ in true }
        XCTAssertEqual(inConversation.passages.first?.file, "kv.md", "the follow-up retrieves the conversation's document first")
        XCTAssertNotNil(inConversation.passages.first?.documentID)
        let withSystem = try await p.answer(AnswerRequest(messages: [ChatMessage(role: "system", content: "You are the help desk of ACME.")]
                                                         + history + [followUp], generation: options)) { _ in true }
        if !alone.refused {
            XCTAssertGreaterThan(inConversation.usage.promptTokens, alone.usage.promptTokens, "the earlier turns are in the prompt")
        }
        XCTAssertGreaterThan(withSystem.usage.promptTokens, inConversation.usage.promptTokens, "the client's system prompt is in the prompt")
    }
}
