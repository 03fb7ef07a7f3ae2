// `rag prefs rank FILE --judge reward:DIR|model:PATH` (RLAIF): a reward model orders the answers by
// its score; a judge model compares them two at a time in both orders and keeps a preference only
// when both agree. The verdicts go into the same training file as a person's rankings.

import Foundation
import Generator
@testable import RAG
import Tokenizers
import XCTest

final class PreferenceJudgeTests: XCTestCase {
    private func candidates() -> CandidateSet {
        let passages = [Passage(n: 1, file: "b.md", page: nil, section: "Bravo", score: 0.9,
                                text: "Beavers build dams across rivers with branches and mud.", chunkID: 1),
                        Passage(n: 2, file: "c.md", page: nil, section: "Charlie", score: 0.5,
                                text: "Cormorants dive for fish along the coast.", chunkID: 2)]
        let prompt = [ChatMessage(role: "system", content: "Answer from the passages and cite them as [n]."),
                      ChatMessage(role: "user", content: "[1] Beavers build dams across rivers with branches and mud.\n[2] Cormorants dive for fish along the coast.\n\nQuestion: What do beavers build?")]
        return CandidateSet(question: "What do beavers build?", prompt: prompt, passages: passages,
                            responses: ["Beavers build dams across rivers [1].", "Beavers build dams across rivers [1].",
                                        "Cormorants are birds that build nests of fish [2].", "I like trains."])
    }

    func testJudgeSpecsAreParsedAndBadOnesExplained() throws {
        XCTAssertEqual(try PreferenceJudgeSpec(parsing: "reward:out/rm"), .reward(URL(fileURLWithPath: "out/rm", isDirectory: true)))
        XCTAssertEqual(try PreferenceJudgeSpec(parsing: "model:/m/judge.gguf"), .model("/m/judge.gguf"))
        for bad in ["reward:", "model:", "gpt4", "rm:dir"] {
            XCTAssertThrowsError(try PreferenceJudgeSpec(parsing: bad), bad) { XCTAssertTrue("\($0)".contains("reward:DIR"), "\($0)") }
        }
    }

    /// The real SmolLM2 as a pairwise judge: identical answers are never preferred one to the
    /// other (the two orders are the same prompt, so they cannot agree on opposite letters), every
    /// kept pair is one both orders agree on, and the judged file trains.
    func testModelJudgeKeepsOnlyWhatBothOrdersAgreeOn() throws {
        let base = try LlamaModel.load(from: try TestModels.locator.generator())
        let judge = try ModelJudge(model: base, name: "model:smollm2")
        var set = candidates()
        try judge.judge(&set)
        let pairs = try XCTUnwrap(set.pairs)
        XCTAssertEqual(set.judge, "model:smollm2")
        XCTAssertNil(set.ranking)
        XCTAssertFalse(pairs.contains { Set($0) == [0, 1] }, "identical answers: a tie, dropped")
        XCTAssertEqual(Set(pairs.map { Set($0) }).count, pairs.count, "each two answers compared once")
        for pair in pairs {
            let (i, j) = (pair[0], pair[1])
            XCTAssertGreaterThan(try judge.preferenceForA(set, a: set.responses[i], b: set.responses[j]), 0)
            XCTAssertLessThan(try judge.preferenceForA(set, a: set.responses[j], b: set.responses[i]), 0)
        }
        var margins: [String] = []
        for i in set.responses.indices {
            for j in set.responses.indices where j != i {
                margins.append(String(format: "%d/%d %.2f", i, j, try judge.preferenceForA(set, a: set.responses[i], b: set.responses[j])))
            }
        }
        print("model judge pairs: \(pairs); logit(A) - logit(B): \(margins.joined(separator: ", "))")

        let dir = try TempFolder()
        let file = dir.url.appendingPathComponent("pairs.jsonl")
        var tie = candidates()
        tie.pairs = []
        tie.judge = "model:smollm2"
        try PreferenceFile.write(PreferenceFile.trainable([set, tie]), to: file)
        XCTAssertEqual(try PreferenceFile.read(file).count, pairs.isEmpty ? 0 : 1, "a set with only ties trains nothing")
        if !pairs.isEmpty {
            let dataset = try PreferenceDataset(url: file, model: base, maxLength: 2048)
            XCTAssertEqual(dataset.pairs.count, pairs.count)
        }
    }

    /// A reward model (a few steps of `rag finetune rm` on SmolLM2) ranks the answers by its score.
    func testRewardJudgeRanksByTheRewardModelsScore() throws {
        let baseURL = try TestModels.locator.generator()
        let base = try LlamaModel.load(from: baseURL)
        let dir = try TempFolder()
        let data = try dir.write("pref.jsonl", """
            {"prompt": "What do beavers build?", "chosen": "Dams [1].", "rejected": "Trains."}
            {"prompt": "Where do cormorants dive?", "chosen": "Along the coast [2].", "rejected": "In space."}
            """)
        var o = FinetuneOptions()
        o.maxSteps = 1; o.batchSize = 2; o.gradAccum = 1; o.maxLength = 64; o.learningRate = 1e-3
        o.lora = LoRAOptions(rank: 2, alpha: 4, dropout: 0, targets: ["q_proj"], layers: [29])
        let rm = dir.url.appendingPathComponent("rm")
        _ = try Finetune.rm(model: base, data: data, output: rm, options: o, baseModelName: baseURL.lastPathComponent)

        let judge = try PreferenceJudges.make(.reward(rm), generatorPath: baseURL.path)
        var set = candidates()
        try judge.judge(&set)
        let scores = try XCTUnwrap(set.scores), ranking = try XCTUnwrap(set.ranking)
        XCTAssertEqual(scores.count, 4)
        XCTAssertEqual(Set(ranking), Set(0..<4))
        for (a, b) in zip(ranking, ranking.dropFirst()) { XCTAssertGreaterThanOrEqual(scores[a], scores[b], "best first") }
        XCTAssertEqual(scores[0], scores[1], accuracy: 1e-5, "the same answer, the same score")
        let scorer = try RewardScorer(model: base, directory: rm)
        XCTAssertEqual(scores[2], try scorer.reward(prompt: set.prompt, response: [ChatMessage(role: "assistant", content: set.responses[2])]),
                       accuracy: 1e-5)
        XCTAssertEqual(set.judge, "reward:\(rm.path)")
        XCTAssertThrowsError(try PreferenceJudges.make(.reward(dir.url.appendingPathComponent("missing")), generatorPath: baseURL.path)) {
            XCTAssertTrue("\($0)".contains("missing") && "\($0)".contains("rag finetune rm"), "\($0)")
        }
    }
}
