// (IA)³ and prompt-tuning adapters made by peft itself for the real SmolLM2 GGUF, against
// transformers + peft's logits (fixtures from scripts/fixtures/make_peft_kinds_fixtures.py): read
// for inference (folded, or as virtual tokens) and for training, and written back by rag in a
// layout that reads the same.

import XCTest
@testable import Generator
import Tensor
import Tokenizers

final class PEFTParityTests: TemporaryFolderTestCase {
    private func check(_ adapter: String, fixture: String, label: String) throws {
        let base = try RealModel.load()
        let adapted = try base.adapted(by: try Fixtures.url(adapter))
        XCTAssertEqual(adapted.adapterName, adapter)
        let parity = try LoRAAdapterTests.compare(adapted, ids: \.lora_top_ids, logits: \.lora_top_logits, fixture: fixture)
        print("\(label) parity: top-1 \(parity.agree)/\(parity.total), max |Δlogit| \(parity.delta)")
        XCTAssertLessThanOrEqual(parity.delta, 1e-2)
        XCTAssertGreaterThanOrEqual(Double(parity.agree) / Double(parity.total), 0.99)
        let ignored = try LoRAAdapterTests.compare(base, ids: \.lora_top_ids, logits: \.lora_top_logits, fixture: fixture)
        XCTAssertGreaterThan(ignored.delta, 0.3, "the adapter moves these logits far more than the tolerance")

        // The training side reads the same folder to the same logits, and what it writes reads back the same.
        let fixtureCases = try Fixtures.json(fixture, as: LoRAAdapterTests.Fixture.self).cases
        let ids = fixtureCases[0].ids, position = fixtureCases[0].positions.last ?? 0
        let trainable = TrainableLlama(base)
        try trainable.startFrom(adapter: try Fixtures.url(adapter), dropout: 0, seed: 0)
        let logits = try noGrad { try trainable.logits(ids, batch: 1, length: ids.count) }.toArray()
        let vocab = base.config.vocabSize
        let expected = fixtureCases[0].lora_top_logits.last ?? [], expectedIDs = fixtureCases[0].lora_top_ids.last ?? []
        let worst = zip(expectedIDs, expected).map { abs(logits[position * vocab + $0] - $1) }.max() ?? 1
        XCTAssertLessThanOrEqual(worst, 2e-2, "\(label): the trainable model reads peft's folder")
        let rewritten = folder.appendingPathComponent("rewritten-\(adapter)")
        try trainable.saveTrained(to: rewritten, baseModelName: "SmolLM2")
        let again = try LoRAAdapterTests.compare(try base.adapted(by: rewritten), ids: \.lora_top_ids, logits: \.lora_top_logits, fixture: fixture)
        XCTAssertLessThanOrEqual(again.delta, 1e-2, "\(label): the folder rag writes reads as peft's does")
    }

    func testIA3AdapterMadeByPEFTMatchesTransformers() throws {
        try check("smollm2_ia3", fixture: "smollm2_ia3_parity.json", label: "IA3")
    }

    func testPromptTuningAdapterMadeByPEFTMatchesTransformers() throws {
        try check("smollm2_prompt", fixture: "smollm2_prompt_parity.json", label: "prompt tuning")
    }
}
