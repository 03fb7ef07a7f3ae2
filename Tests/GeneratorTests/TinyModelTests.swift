// The architecture on a tiny random Llama: the model's kernels against a plain reference forward
// pass, GGUF (permuted Q/K, interleaved RoPE) against Hugging Face layout (rotate_half), and KV-cache
// decoding against the full forward pass.

import XCTest
@testable import Generator

final class TinyModelTests: TemporaryFolderTestCase {


    private func silentGenerator(_ model: LlamaModel, contextLength: Int? = nil) -> DecodingSession {
        DecodingSession(model: model, contextLength: contextLength, threads: 1, decoder: { SilentDecoder() }, endTokens: [])
    }

    private let sequence = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 257, 10, 3, 200, 5, 99, 0]

    private func assertClose(_ a: [[Float]], _ b: [[Float]], tolerance: Float, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var worst: Float = 0
        for (ra, rb) in zip(a, b) {
            XCTAssertEqual(ra.count, rb.count, what, file: file, line: line)
            for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) }
        }
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max |Δ| = \(worst)", file: file, line: line)
    }

    func testHuggingFaceLayoutMatchesReferenceForward() throws {
        for separateHead in [false, true] {
            let tiny = TinyLlama(seed: 7, separateHead: separateHead)
            let dir = folder.appendingPathComponent("hf-\(separateHead)")
            try tiny.writeHuggingFace(to: dir)
            let model = try LlamaModel.load(from: dir)
            XCTAssertEqual(model.config.ropeLayout, .halves)
            XCTAssertEqual(model.config.tiedEmbeddings, !separateHead)
            let logits = try silentGenerator(model).logits(for: sequence)
            assertClose(logits, tiny.referenceLogits(sequence), tolerance: 1e-4, "HF layout, separate head \(separateHead)")
        }
    }

    func testGGUFWithPermutedQKMatchesReferenceForward() throws {
        for separateHead in [false, true] {
            let tiny = TinyLlama(seed: 11, separateHead: separateHead)
            let url = folder.appendingPathComponent("tiny-\(separateHead).gguf")
            try tiny.gguf().write(to: url)
            let model = try LlamaModel.load(from: url)
            XCTAssertEqual(model.config.ropeLayout, .interleaved)
            XCTAssertEqual(model.config.tiedEmbeddings, !separateHead)
            let logits = try silentGenerator(model).logits(for: sequence)
            assertClose(logits, tiny.referenceLogits(sequence), tolerance: prefillTolerance(float32: 1e-4),
                        "GGUF layout, separate head \(separateHead)")
        }
    }

    /// The hidden states a probe reads (embeddings, after each block, after the final norm) are the
    /// reference forward pass's, and leave a cache the next prompt reuses.
    func testHiddenStatesMatchTheReferenceForward() throws {
        let tiny = TinyLlama(seed: 5)
        let dir = folder.appendingPathComponent("hf-hidden")
        try tiny.writeHuggingFace(to: dir)
        let gen = silentGenerator(try LlamaModel.load(from: dir))
        let reference = tiny.referenceForward(sequence)
        let layers = Array(0...TinyLlama.layers)
        assertClose(try gen.hiddenStates(after: sequence, layers: layers), reference.lastHidden, tolerance: 1e-4, "hidden states")
        assertClose([try gen.nextTokenLogits(after: sequence)], [reference.logits[sequence.count - 1]], tolerance: 1e-4,
                    "logits after reading the hidden states")
        assertClose(try gen.hiddenStates(after: [sequence[0]], layers: [1]), [tiny.referenceForward([sequence[0]]).lastHidden[1]],
                    tolerance: 1e-4, "one token")
        XCTAssertThrowsError(try gen.hiddenStates(after: sequence, layers: [TinyLlama.layers + 1]))

        // the probe's prefill is the answer's: its cache holds the whole prompt
        _ = try gen.hiddenStates(after: sequence, layers: [1])
        XCTAssertEqual(gen.cachedPrefixLength(of: sequence), sequence.count)
        XCTAssertEqual(gen.cachedPrefixLength(of: Array(sequence.prefix(4)) + [sequence[0]]), 4)
        gen.reset()
        XCTAssertEqual(gen.cachedPrefixLength(of: sequence), 0)
    }

    func testKVCacheDecodingEqualsFullForward() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 3).gguf().write(to: url)
        let model = try LlamaModel.load(from: url)
        let gen = silentGenerator(model)
        let full = try gen.logits(for: sequence)

        // prefill 7 tokens, then one token at a time
        gen.reset()
        var stepwise: [[Float]] = []
        try gen.run(Array(sequence[0..<7]), logits: .last)
        stepwise.append(Array(gen.lastLogits))
        for token in sequence[7...] {
            try gen.run([token], logits: .last)
            stepwise.append(Array(gen.lastLogits))
        }
        assertClose(stepwise, Array(full[6...]), tolerance: prefillTolerance(float32: 1e-5), "KV-cache decode vs full forward")

        // prefill in two chunks
        gen.reset()
        try gen.run(Array(sequence[0..<9]), logits: .none)
        try gen.run(Array(sequence[9...]), logits: .last)
        assertClose([Array(gen.lastLogits)], [full[sequence.count - 1]], tolerance: prefillTolerance(float32: 1e-5), "chunked prefill")
    }

    func testGreedyGenerationIsArgmaxOfTeacherForcedLogits() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 5).gguf().write(to: url)
        let model = try LlamaModel.load(from: url)
        let gen = silentGenerator(model)
        let prompt = Array(sequence[0..<6])
        let out = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 10))
        XCTAssertEqual(out.tokenIDs.count, 10)
        XCTAssertEqual(out.finishReason, .maxTokens)
        XCTAssertEqual(out.promptTokens, 6)
        let logits = try silentGenerator(model).logits(for: prompt + out.tokenIDs)
        for (i, token) in out.tokenIDs.enumerated() {
            XCTAssertEqual(argmax(logits[prompt.count - 1 + i]), token, "generated token \(i)")
        }
        // A second prompt sharing a prefix reuses the cache and still gives the same answer.
        let again = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 10))
        XCTAssertEqual(again.tokenIDs, out.tokenIDs)
    }

    func testGenerationStopsWhenTheContextIsFull() throws {
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 5).gguf().write(to: url)
        let gen = silentGenerator(try LlamaModel.load(from: url), contextLength: 12)
        let out = try gen.generate(promptTokens: Array(sequence[0..<8]), options: .greedy(maxTokens: 100))
        XCTAssertEqual(out.finishReason, .contextFull)
        XCTAssertEqual(out.tokenIDs.count, 5)  // positions 8 ... 11 filled, plus the last sampled token
    }
}
