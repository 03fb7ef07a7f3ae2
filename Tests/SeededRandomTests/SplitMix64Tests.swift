import XCTest
import SeededRandom

final class SplitMix64Tests: XCTestCase {
    /// The first outputs of the published algorithm (Vigna's splitmix64.c), written out by
    /// scripts/fixtures/splitmix64_reference.py; seed 1234567 is the one other test suites quote.
    static let reference: [UInt64: [UInt64]] = [
        0: [16_294_208_416_658_607_535, 7_960_286_522_194_355_700, 487_617_019_471_545_679,
            17_909_611_376_780_542_444, 1_961_750_202_426_094_747],
        1_234_567: [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                    4_593_380_528_125_082_431, 16_408_922_859_458_223_821],
    ]

    func testFirstOutputsMatchThePublishedAlgorithm() {
        for (seed, expected) in Self.reference {
            var g = SplitMix64(seed: seed)
            XCTAssertEqual((0..<expected.count).map { _ in g.next() }, expected, "seed \(seed)")
        }
    }

    /// The state is a Weyl sequence (seed + n·γ), and a saved state given back as a seed continues
    /// the same sequence: VectorIndex persists the state with its graph on that promise.
    func testSavedStateContinuesTheSequence() throws {
        let expected = try XCTUnwrap(Self.reference[1_234_567])
        var g = SplitMix64(seed: 1_234_567)
        for _ in 0..<3 { _ = g.next() }
        XCTAssertEqual(g.state, 1_234_567 &+ 3 &* 0x9E37_79B9_7F4A_7C15)
        var resumed = SplitMix64(seed: g.state)
        XCTAssertEqual([resumed.next(), resumed.next()], Array(expected[3...]))
    }

    /// Both unit draws take the top 53 bits of the same outputs: [0, 1) and (0, 1].
    func testUnitDrawsUseTheTop53Bits() throws {
        let outputs = try XCTUnwrap(Self.reference[0])
        var a = SplitMix64(seed: 0), b = SplitMix64(seed: 0)
        for x in outputs {
            XCTAssertEqual(a.nextUnit(), Double(x >> 11) / 9_007_199_254_740_992)
            XCTAssertEqual(b.nextUnitExcludingZero(), Double((x >> 11) + 1) / 9_007_199_254_740_992)
        }
        for _ in 0..<10_000 {
            let u = a.nextUnit(), v = b.nextUnitExcludingZero()
            XCTAssertTrue(u >= 0 && u < 1, "\(u)")
            XCTAssertTrue(v > 0 && v <= 1, "\(v)")
        }
    }

    func testSameSeedShufflesTheSameWay() {
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        let items = Array(0..<100)
        XCTAssertEqual(items.shuffled(using: &a), items.shuffled(using: &b))
        XCTAssertNotEqual(items.shuffled(using: &a), items.shuffled(using: &c))
    }
}
