// The sampler on hand-made logits: greedy, temperature, top-k, top-p, min-p, repetition penalty,
// seeds; and the option checks.

import XCTest
@testable import Generator

final class SamplingTests: XCTestCase {
    /// Draws `n` tokens from fresh copies of `logits`, returns how often each id came up.
    private func counts(_ logits: [Float], _ options: SamplingOptions, n: Int = 4000, recent: [Int] = []) -> [Int] {
        var sampler = Sampler(options: options)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<n {
            var copy = logits
            let id = copy.withUnsafeMutableBufferPointer { sampler.next(logits: $0.baseAddress!, count: $0.count, recent: recent[...]) }
            counts[id] += 1
        }
        return counts
    }

    private let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 2.0, 0.0]

    func testGreedyTakesTheArgmax() {
        XCTAssertEqual(counts(logits, .greedy(), n: 5), [0, 5, 0, 0, 0, 0])
        XCTAssertEqual(counts([0, 2, 2, 1], .greedy(), n: 3), [0, 3, 0, 0], "ties go to the lower id")
    }

    func testTemperatureFollowsTheSoftmax() {
        for temperature: Float in [0.5, 1, 2] {
            let opts = SamplingOptions(temperature: temperature, topK: 0, topP: 1, minP: 0, seed: 42)
            let n = 20000
            let got = counts(logits, opts, n: n)
            let e = logits.map { exp(Double($0 / temperature)) }
            let z = e.reduce(0, +)
            for i in logits.indices {
                let p = e[i] / z
                let sigma = (p * (1 - p) / Double(n)).squareRoot()
                XCTAssertEqual(Double(got[i]) / Double(n), p, accuracy: 5 * sigma + 1e-4, "T=\(temperature) id \(i)")
            }
        }
    }

    func testTopKKeepsTheKMostLikely() {
        let got = counts(logits, SamplingOptions(temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1))
        XCTAssertEqual(got[0] + got[3] + got[4] + got[5], 0)
        XCTAssertGreaterThan(got[1], got[2])
        XCTAssertGreaterThan(got[2], 0)
    }

    func testTopPKeepsTheSmallestSetReachingP() {
        // probabilities 0.5, 0.3, 0.15, 0.05: p = 0.7 needs the first two, p = 0.85 three
        let probs: [Float] = [0.5, 0.3, 0.15, 0.05].map { log($0) }
        var got = counts(probs, SamplingOptions(temperature: 1, topK: 0, topP: 0.7, minP: 0, seed: 2))
        XCTAssertEqual(got[2] + got[3], 0)
        XCTAssertGreaterThan(got[1], 0)
        got = counts(probs, SamplingOptions(temperature: 1, topK: 0, topP: 0.85, minP: 0, seed: 2))
        XCTAssertEqual(got[3], 0)
        XCTAssertGreaterThan(got[2], 0)
        // renormalised within the kept set: 0.5 / 0.8 of draws for p = 0.7
        got = counts(probs, SamplingOptions(temperature: 1, topK: 0, topP: 0.7, minP: 0, seed: 3), n: 20000)
        XCTAssertEqual(Double(got[0]) / 20000, 0.625, accuracy: 0.02)
    }

    func testMinPDropsTokensFarBelowTheBest() {
        let probs: [Float] = [0.5, 0.3, 0.15, 0.05].map { log($0) }
        let got = counts(probs, SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0.2, seed: 4))
        XCTAssertEqual(got[3], 0, "0.05 < 0.2 × 0.5")
        XCTAssertGreaterThan(got[2], 0, "0.15 ≥ 0.1")
    }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        var sampler = Sampler(options: SamplingOptions(temperature: 0, repetitionPenalty: 2, repetitionWindow: 2))
        var l: [Float] = [3.0, 2.0, -1.0, 1.9]
        let id = l.withUnsafeMutableBufferPointer { sampler.next(logits: $0.baseAddress!, count: 4, recent: [1, 0, 2][...]) }
        // window 2 covers ids 0 and 2 only: 3 → 1.5, -1 → -2; id 1 (2.0) now wins
        XCTAssertEqual(l, [1.5, 2.0, -2.0, 1.9])
        XCTAssertEqual(id, 1)
    }

    func testSameSeedSameSamplesOtherSeedOthers() {
        let flat = [Float](repeating: 0, count: 50)
        func draws(_ seed: UInt64) -> [Int] {
            var sampler = Sampler(options: SamplingOptions(temperature: 1, topK: 0, topP: 1, minP: 0, seed: seed))
            return (0..<30).map { _ in
                var copy = flat
                return copy.withUnsafeMutableBufferPointer { sampler.next(logits: $0.baseAddress!, count: 50, recent: []) }
            }
        }
        XCTAssertEqual(draws(9), draws(9))
        XCTAssertNotEqual(draws(9), draws(10))
    }

    func testOptionsOutOfRangeAreRejected() {
        let bad: [SamplingOptions] = [
            SamplingOptions(temperature: -1), SamplingOptions(topK: -1), SamplingOptions(topP: 0), SamplingOptions(topP: 1.5),
            SamplingOptions(minP: -0.1), SamplingOptions(repetitionPenalty: 0), SamplingOptions(maxTokens: -1),
            SamplingOptions(stop: [""]), SamplingOptions(stop: ["ok", "bad\u{FFFD}"]),
        ]
        for options in bad { XCTAssertThrowsError(try options.validate(), "\(options)") }
        XCTAssertNoThrow(try SamplingOptions(stop: ["</s>", "Ü"]).validate())
    }

    func testNonUTF8StopStringIsAClearError() {
        XCTAssertThrowsError(try SamplingOptions.stopStrings(utf8: [Array("ok".utf8), [0x66, 0xFF, 0xFE]])) { error in
            XCTAssertTrue("\(error)".contains("stop string 1 is not valid UTF-8"), "\(error)")
        }
        XCTAssertEqual(try SamplingOptions.stopStrings(utf8: [Array("Ω\n".utf8)]), ["Ω\n"])
    }
}
