// The decode step (WorkerPool sections, direct Q8_0/Q4_1 kernels, decode attention) against the
// batched forward pass (dequantized tiles + sgemm), on tiny quantized models and the real SmolLM2
// GGUF, with 1 and several threads.

import XCTest
@testable import Generator
import Tokenizers

final class DecodeStepTests: TemporaryFolderTestCase {
    private let sequence = [72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 257, 10, 3, 200, 5, 99, 0]
    private static let q8_0: UInt32 = 8, q4_1: UInt32 = 3

    private func quantizedTiny(_ type: UInt32, separateHead: Bool) throws -> LlamaModel {
        let encode = type == Self.q8_0 ? BlockQuantizer.q8_0 : BlockQuantizer.q4_1
        let url = folder.appendingPathComponent("tiny-\(type)-\(separateHead).gguf")
        try TinyLlama(seed: 13, separateHead: separateHead).gguf(matrices: (type, encode)).write(to: url)
        return try LlamaModel.load(from: url)
    }

    private func generator(_ model: LlamaModel, threads: Int) -> DecodingSession {
        DecodingSession(model: model, contextLength: 256, threads: threads, decoder: { SilentDecoder() }, endTokens: [])
    }

    private func maxDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        XCTAssertEqual(a.count, b.count)
        var worst: Float = 0
        for (ra, rb) in zip(a, b) {
            XCTAssertEqual(ra.count, rb.count)
            for (x, y) in zip(ra, rb) { worst = max(worst, abs(x - y)) }
        }
        return worst
    }

    func testDecodeStepMatchesBatchedForwardForQ8_0AndQ4_1() throws {
        for type in [Self.q8_0, Self.q4_1] {
            for separateHead in [false, true] {
                let model = try quantizedTiny(type, separateHead: separateHead)
                XCTAssertNotNil(model.decodeMatrices, "type \(type): the decode kernels are not used")
                let full = try generator(model, threads: 1).logits(for: sequence)
                for threads in [1, 2, 3] {
                    let steps = try stepwiseLogits(model, sequence, prefix: 5, threads: threads)
                    let delta = maxDifference(steps, Array(full[4...]))
                    XCTAssertLessThanOrEqual(delta, prefillTolerance(float32: 1e-4), "type \(type), separate head \(separateHead), \(threads) threads")
                }
            }
        }
    }

    func testOneAndTwoThreadsDecodeTheSameLogits() throws {
        let model = try quantizedTiny(Self.q4_1, separateHead: true)
        let one = try stepwiseLogits(model, sequence, prefix: 3, threads: 1)
        let two = try stepwiseLogits(model, sequence, prefix: 3, threads: 2)
        XCTAssertEqual(one, two)  // each row and head is computed the same way whichever thread runs it
    }

    func testF32WeightsKeepTheGenericDecodePath() throws {
        let url = folder.appendingPathComponent("tiny-f32.gguf")
        try TinyLlama(seed: 13).gguf().write(to: url)
        XCTAssertNil(try LlamaModel.load(from: url).decodeMatrices)
    }

    func testRealModelDecodeStepMatchesGenericPathAndThreadCounts() throws {
        let model = try RealModel.load()
        XCTAssertNotNil(model.decodeMatrices, "SmolLM2's Q4_1/Q8_0 weights should use the decode kernels")
        let prompt = try model.promptTokens(for: [ChatMessage(role: "user", content: "What is a vector index?")])
        let tokens = prompt + [504, 3406, 314, 253, 1184, 282]  // teacher-forced continuation
        let one = try stepwiseLogits(model, tokens, prefix: prompt.count, threads: 1)
        let two = try stepwiseLogits(model, tokens, prefix: prompt.count, threads: 2)
        XCTAssertEqual(one, two)

        // The generic path: the same steps through WeightMatrix.apply (no pool).
        let state = InferenceState(config: model.config, contextLength: 256)
        try model.forward(prompt, state: state, logits: .last, threads: 1)
        var generic = [Array(UnsafeBufferPointer(start: state.logits.pointer, count: model.config.vocabSize))]
        for token in tokens[prompt.count...] {
            try model.forward([token], state: state, logits: .last, threads: 1)
            generic.append(Array(UnsafeBufferPointer(start: state.logits.pointer, count: model.config.vocabSize)))
        }
        XCTAssertLessThanOrEqual(maxDifference(one, generic), 2e-3)
        XCTAssertEqual(one.map(argmax), generic.map(argmax))
    }
}
