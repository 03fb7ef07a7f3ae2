// `rag prefs collect` and `rag prefs rank`: candidates sampled through the real pipeline (same
// prompt as `rag ask`, different seeds), rankings typed as 2>1>3, and the ranked file read by
// `rag finetune dpo|rm` as every ordered pair.

import Generator
@testable import RAG
import Tokenizers
import XCTest

final class PreferenceCollectionTests: XCTestCase {
    func testRankingsAreParsedBestFirstAndBadOnesNamed() throws {
        XCTAssertEqual(try PreferenceFile.parseRanking("2>1>4>3", count: 4), [1, 0, 3, 2])
        XCTAssertEqual(try PreferenceFile.parseRanking(" 1 > 2 ", count: 2), [0, 1])
        for bad in ["2>2>1", "1>2", "1>2>3>4", "a>b>c", "1>>2", ""] {
            XCTAssertThrowsError(try PreferenceFile.parseRanking(bad, count: 3), bad)
        }
    }

    func testQuestionsAreTextLinesOrJSONWithAQuestion() throws {
        let dir = try TempFolder()
        let url = try dir.write("q.txt", "What do beavers build?\n\n{\"id\": \"q1\", \"question\": \"Where do cormorants dive?\", \"relevant\": []}\n")
        XCTAssertEqual(try PreferenceFile.questions(in: url), ["What do beavers build?", "Where do cormorants dive?"])
        let bad = try dir.write("bad.jsonl", "{\"q\": \"no question field\"}")
        XCTAssertThrowsError(try PreferenceFile.questions(in: bad)) { XCTAssertTrue("\($0)".contains("bad.jsonl:1"), "\($0)") }
    }

    func testCandidatesAreSampledOnTheAskPromptAndTheRankedFileTrains() throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("b.md", "# Bravo\n\nBeavers build dams across rivers with branches and mud.")
        try docs.write("c.md", "# Charlie\n\nCormorants dive for fish along the coast.")
        let p = try TestModels.pipeline(in: store.url, withGenerator: true)
        _ = try p.ingest(folder: docs.url, progress: { _ in })
        var sampling = SamplingOptions.answering
        sampling.temperature = 1; sampling.maxTokens = 12; sampling.seed = 5
        let question = "What do beavers build?"
        let set = try XCTUnwrap(try p.collectCandidates(question: question, n: 3, search: SearchOptions(k: 2), sampling: sampling))
        XCTAssertEqual(set.responses.count, 3)
        XCTAssertGreaterThan(Set(set.responses).count, 1, "different seeds sample different answers")
        let prompt = try p.preparePrompt(AnswerRequest(question: question, search: SearchOptions(k: 2)))
        XCTAssertEqual(set.prompt, prompt.messages, "the candidates answer exactly what rag ask sends")
        XCTAssertTrue(set.passages.contains { $0.text.contains("Beavers") })
        XCTAssertThrowsError(try p.collectCandidates(question: question, n: 1, search: SearchOptions(k: 2), sampling: sampling))

        var ranked = set
        ranked.ranking = try PreferenceFile.parseRanking("3>1>2", count: 3)
        let file = store.url.appendingPathComponent("prefs.jsonl")
        try PreferenceFile.write([ranked, set], to: file)
        XCTAssertEqual(try PreferenceFile.read(file), [ranked, set])
        let pairs = store.url.appendingPathComponent("pairs.jsonl")
        try PreferenceFile.write([ranked], to: pairs)
        let model = try TestModels.requireGenerator().model
        let dataset = try PreferenceDataset(url: pairs, model: model, maxLength: 2048)
        XCTAssertEqual(dataset.format, .ranked)
        XCTAssertEqual(dataset.pairs.count, 3, "a ranking of three gives three ordered pairs")

        // … and DPO trains on it: collect → rank → pairs → dpo, end to end (one small step on the base).
        let base = try LlamaModel.load(from: try TestModels.locator.generator())
        var o = FinetuneOptions()
        o.maxSteps = 1; o.batchSize = 3; o.gradAccum = 1; o.maxLength = 1024; o.learningRate = 1e-4
        o.lora = LoRAOptions(rank: 2, alpha: 4, dropout: 0, targets: ["q_proj"], layers: [29])
        var reports: [FinetuneProgress] = []
        let out = store.url.appendingPathComponent("dpo")
        _ = try Finetune.dpo(model: base, data: pairs, output: out, options: o, dpo: DPOOptions(), baseModelName: "SmolLM2",
                             progress: { reports.append($0) })
        XCTAssertEqual(reports.first?.loss ?? 0, Foundation.log(2), accuracy: 1e-3, "step 0: the policy is the reference")
        XCTAssertNotNil(try base.adapted(by: out).adapterName)
    }
}
