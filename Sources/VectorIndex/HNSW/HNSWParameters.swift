import Foundation
import SeededRandom

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

extension SplitMix64 {
    /// A new node's top layer, ⌊−ln(U) · mL⌋ with U uniform in (0, 1], at most 64. One draw per
    /// insert: the generator's state is persisted with the graph, so this must not change.
    mutating func level(mL: Double) -> Int { min(Int(-log(nextUnitExcludingZero()) * mL), 64) }
}
