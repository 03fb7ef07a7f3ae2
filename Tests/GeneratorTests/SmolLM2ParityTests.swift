// Parity with transformers on the real SmolLM2-135M-Instruct Q4_1 GGUF (fixtures from
// scripts/fixtures/make_generator_fixtures.py): teacher-forced logits and greedy continuations.

import XCTest
@testable import Generator

final class SmolLM2ParityTests: XCTestCase {
    private func generator(_ model: LlamaModel) -> DecodingSession {
        DecodingSession(model: model, contextLength: 512, threads: 2, decoder: { SilentDecoder() }, endTokens: [])
    }

    func testTeacherForcedLogitsMatchTransformers() throws {
        let model = try RealModel.load()
        let fixture = try Fixtures.json("smollm2_parity.json", as: ParityFixture.self)
        let full = try Fixtures.floats("smollm2_full_logits.f32")
        XCTAssertEqual(model.config.vocabSize, fixture.vocab_size)
        let gen = generator(model)
        var agree = 0, total = 0
        var maxDelta: Float = 0, maxFullDelta: Float = 0
        for (ci, c) in fixture.cases.enumerated() {
            let logits = try gen.logits(for: c.prompt_ids + c.greedy_ids)
            for (k, p) in c.positions.enumerated() {
                let row = logits[p]
                total += 1
                if argmax(row) == c.top1[k] { agree += 1 }
                for (id, expected) in zip(c.top_ids[k], c.top_logits[k]) {
                    maxDelta = max(maxDelta, abs(row[id] - expected))
                }
            }
            for (p, index) in zip(c.full_positions, c.full_logits_index) {
                let expected = full[(index * fixture.vocab_size)..<((index + 1) * fixture.vocab_size)]
                for (a, b) in zip(logits[p], expected) { maxFullDelta = max(maxFullDelta, abs(a - b)) }
            }
            _ = ci
        }
        let agreement = Double(agree) / Double(total)
        print("SmolLM2 parity: top-1 agreement \(agree)/\(total), max |Δlogit| top-20 \(maxDelta), full rows \(maxFullDelta)")
        XCTAssertGreaterThanOrEqual(agreement, 0.99)
        XCTAssertLessThanOrEqual(maxDelta, 1e-2)
        XCTAssertLessThanOrEqual(maxFullDelta, 1e-2)
    }

    func testGreedyContinuationsMatchTransformers() throws {
        let model = try RealModel.load()
        let fixture = try Fixtures.json("smollm2_parity.json", as: ParityFixture.self)
        let gen = generator(model)
        var identical = 0
        for (ci, c) in fixture.cases.enumerated() {
            let out = try gen.generate(promptTokens: c.prompt_ids, options: .greedy(maxTokens: fixture.greedy_tokens))
            XCTAssertEqual(out.finishReason, .maxTokens)
            if out.tokenIDs == c.greedy_ids { identical += 1 } else {
                print("prompt \(ci): greedy differs\n ours \(out.tokenIDs)\n ref  \(c.greedy_ids)")
            }
        }
        print("SmolLM2 parity: \(identical)/\(fixture.cases.count) greedy continuations identical")
        XCTAssertGreaterThanOrEqual(identical, 8)
    }
}

func argmax(_ row: [Float]) -> Int {
    row.indices.max { row[$0] < row[$1] } ?? 0
}
