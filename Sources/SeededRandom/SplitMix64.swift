// SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c): a small seeded generator whose whole
// state is one UInt64 that advances by a fixed odd constant per draw. The same seed gives the same
// numbers on every platform, which SystemRandomNumberGenerator does not promise.

public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The whole state. Saving it and passing it back as a seed continues the same sequence
    /// (VectorIndex persists it with the graph), so its meaning must not change.
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in (0, 1]: the top 53 bits, plus one ulp, so the logarithm is always finite.
    public mutating func nextUnitExcludingZero() -> Double { (Double(next() >> 11) + 1) * 0x1.0p-53 }
}
