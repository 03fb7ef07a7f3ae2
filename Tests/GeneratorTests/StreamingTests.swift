// Streaming and stopping: stop strings split across tokens are held back and never emitted, a
// multi-byte character split over tokens arrives whole, max tokens, end-of-turn and cancellation.
// Generation runs on the tiny random model (byte-level vocabulary).

import XCTest
@testable import Generator
import Tokenizers

final class StopStringFilterTests: XCTestCase {
    func testStopStringSplitAcrossPiecesIsHeldBackAndDropped() {
        var f = StopStringFilter(stop: ["</answer>"])
        XCTAssertEqual(f.push("The end"), "The end")
        XCTAssertEqual(f.push(" </"), " ", "'</' may start the stop string")
        XCTAssertEqual(f.push("ans"), "")
        XCTAssertEqual(f.push("wer> trailing"), "")
        XCTAssertTrue(f.stopped)
        XCTAssertEqual(f.push("more"), "")
    }

    func testHeldTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        var f = StopStringFilter(stop: ["</answer>"])
        XCTAssertEqual(f.push("a </an"), "a ")
        XCTAssertEqual(f.push("d b"), "</and b")
        XCTAssertEqual(f.push("</"), "")
        XCTAssertEqual(f.finish(), "</", "at the end, held text is plain text")
        XCTAssertFalse(f.stopped)
    }

    func testEarliestOfSeveralStopStringsWins() {
        var f = StopStringFilter(stop: ["World", "lo"])
        XCTAssertEqual(f.push("Hello World"), "Hel")
        XCTAssertTrue(f.stopped)
    }

    func testMultiByteStopString() {
        var f = StopStringFilter(stop: ["日本"])
        XCTAssertEqual(f.push("語は日"), "語は")
        XCTAssertEqual(f.push("本です"), "")
        XCTAssertTrue(f.stopped)
    }
}

final class StreamingTests: TemporaryFolderTestCase {
    private var model: LlamaModel!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let url = folder.appendingPathComponent("tiny.gguf")
        try TinyLlama(seed: 21).gguf().write(to: url)
        model = try LlamaModel.load(from: url)
    }


    /// The greedy continuation of `prompt` (ids) with the real streaming decoder.
    private func greedyIDs(_ prompt: [Int], _ n: Int) throws -> [Int] {
        let gen = DecodingSession(model: model, contextLength: 64, threads: 1, decoder: { SilentDecoder() }, endTokens: [])
        return try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: n)).tokenIDs
    }

    func testStreamedPiecesConcatenateToTheDecodedTextAndMaxTokensHolds() throws {
        let prompt = [72, 105, 33]
        let ids = try greedyIDs(prompt, 12)
        let gen = DecodingSession(model: model, contextLength: 64, threads: 1)
        var pieces: [String] = []
        let out = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 12)) { pieces.append($0); return true }
        let endIndex = ids.firstIndex { model.endOfTurnTokens.contains($0) } ?? ids.count
        XCTAssertEqual(out.tokenIDs, Array(ids[..<endIndex]))
        XCTAssertEqual(out.finishReason, endIndex < ids.count ? .endOfTurn : .maxTokens)
        XCTAssertEqual(pieces.joined(), out.text)
        XCTAssertEqual(out.text, model.tokenizer.decode(out.tokenIDs, skipSpecial: true))
    }

    func testStopStringEndsGenerationWithoutEmittingIt() throws {
        let prompt = [72, 105, 33]
        let gen = DecodingSession(model: model, contextLength: 64, threads: 1)
        let full = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 12))
        let bytes = Array(full.text.utf8)
        guard bytes.count >= 4, let stop = String(validating: bytes[2..<4], as: UTF8.self) else {
            throw XCTSkip("the tiny model's continuation is too short or not ASCII here: \(full.text.debugDescription)")
        }
        var streamed = ""
        let out = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 12, stop: [stop])) { streamed += $0; return true }
        XCTAssertEqual(out.finishReason, .stopString)
        let cut = bytes.firstRange(of: Array(stop.utf8))?.lowerBound ?? bytes.count
        let expected = String(decoding: bytes[..<cut], as: UTF8.self)
        XCTAssertEqual(out.text, expected)
        XCTAssertEqual(streamed, expected)
        XCTAssertFalse(streamed.contains(stop))
    }

    func testMultiByteCharacterSplitOverTokensArrivesWhole() {
        // "é" is the bytes C3 A9: two byte tokens; the decoder must not emit half of it.
        var decoder = BPEStreamingDecoder(tokenizer: model.tokenizer)
        var filter = StopStringFilter(stop: [])
        var pieces: [String] = []
        for id in byteTokenIDs("caf") + byteTokenIDs([0xC3]) + byteTokenIDs([0xA9]) + byteTokenIDs("!") {
            pieces.append(filter.push(decoder.push(id)))
        }
        XCTAssertEqual(pieces, ["c", "a", "f", "", "é", "!"])
    }

    func testCallbackReturningFalseCancels() throws {
        let gen = DecodingSession(model: model, contextLength: 64, threads: 1, decoder: { AlwaysText() }, endTokens: [])
        var calls = 0
        let out = try gen.generate(promptTokens: [1, 2, 3], options: .greedy(maxTokens: 20)) { _ in calls += 1; return calls < 3 }
        XCTAssertEqual(out.finishReason, .cancelled)
        XCTAssertEqual(out.tokenIDs.count, 3)
    }

    func testPromptOverTheContextLimitIsAClearError() throws {
        let gen = DecodingSession(model: model, contextLength: 16, threads: 1)
        XCTAssertThrowsError(try gen.generate(promptTokens: Array(repeating: 65, count: 16), options: .greedy())) { error in
            XCTAssertEqual(error as? GeneratorError, .contextOverflow(promptTokens: 16, contextLength: 16))
            XCTAssertTrue("\(error)".contains("16 tokens"), "\(error)")
        }
        XCTAssertThrowsError(try gen.generate(promptTokens: [65, 9999], options: .greedy())) { error in
            XCTAssertTrue("\(error)".contains("9999"), "\(error)")
        }
    }

    /// Ids of the tiny vocabulary's byte tokens for these bytes.
    private func byteTokenIDs(_ s: String) -> [Int] { byteTokenIDs(Array(s.utf8)) }
    private func byteTokenIDs(_ bytes: [UInt8]) -> [Int] {
        let table = TinyTokenizer.byteTokens
        return bytes.compactMap { model.tokenizer.id(of: table[Int($0)]) }
    }
}

/// Every token decodes to "x" (for counting callbacks).
private struct AlwaysText: TokenStreamDecoding {
    mutating func push(_ id: Int) -> String { "x" }
    mutating func finish() -> String { "" }
}
