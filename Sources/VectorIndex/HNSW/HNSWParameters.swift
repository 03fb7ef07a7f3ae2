import Foundation

/// Construction and search parameters, named as in Malkov & Yashunin (2018).
public struct HNSWParameters: Sendable, Equatable {
    /// Links per node on layers ≥ 1 (Mmax); layer 0 keeps up to M0 = 2M.
    public var M: Int
    /// Size of the dynamic candidate list while inserting.
    public var efConstruction: Int
    /// Default size of the dynamic candidate list while searching (per query override possible).
    public var efSearch: Int
    /// Seed of the level generator, so the same inserts build the same graph.
    public var seed: UInt64
    /// Algorithm 4's keepPrunedConnections: fill lists up to Mmax with discarded candidates. Off by
    /// default, as in hnswlib: full lists make every later link to the node re-run the heuristic,
    /// which cost about a quarter of the build time on Fashion-MNIST for no recall at equal speed.
    public var keepPrunedConnections: Bool

    public init(M: Int = 16, efConstruction: Int = 200, efSearch: Int = 64, seed: UInt64 = 42,
                keepPrunedConnections: Bool = false) {
        self.M = M
        self.efConstruction = efConstruction
        self.efSearch = efSearch
        self.seed = seed
        self.keepPrunedConnections = keepPrunedConnections
    }

    public var M0: Int { 2 * M }
    /// Level multiplier mL = 1 / ln M.
    public var mL: Double { 1 / log(Double(M)) }

    func maxLinks(level: Int) -> Int { level == 0 ? M0 : M }

    func validate() throws {
        guard M >= 2, M <= 1024 else { throw VectorIndexError.invalidParameter("M must be in 2...1024, got \(M)") }
        guard efConstruction >= 1 else {
            throw VectorIndexError.invalidParameter("efConstruction must be ≥ 1, got \(efConstruction)")
        }
        guard efSearch >= 1 else { throw VectorIndexError.invalidParameter("efSearch must be ≥ 1, got \(efSearch)") }
    }
}

/// SplitMix64: a small seeded generator whose state fits in one UInt64 (persisted with the graph).
struct LevelGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// ⌊−ln(U) · mL⌋ with U uniform in (0, 1].
    mutating func level(mL: Double) -> Int {
        let u = (Double(next() >> 11) + 1) / 9_007_199_254_740_992.0  // (0, 1]
        return min(Int(-log(u) * mL), 64)
    }
}
