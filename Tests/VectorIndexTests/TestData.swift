import Foundation
import SeededRandom
@testable import VectorIndex

/// Deterministic test vectors: Gaussian clusters around random centres.
extension SplitMix64 {
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    mutating func gaussian() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

struct ClusteredData {
    let dimension: Int
    let centres: [[Float]]
    var random: SplitMix64
    let spread: Float

    init(dimension: Int, clusters: Int, spread: Float = 0.35, seed: UInt64) {
        var r = SplitMix64(seed: seed)
        self.dimension = dimension
        self.centres = (0..<clusters).map { _ in (0..<dimension).map { _ in r.gaussian() } }
        self.random = r
        self.spread = spread
    }

    mutating func sample() -> [Float] {
        let c = centres[random.int(centres.count)]
        return c.map { $0 + spread * random.gaussian() }
    }

    mutating func samples(_ n: Int) -> [[Float]] { (0..<n).map { _ in sample() } }
}

/// Unoptimised debug builds take the smaller size to stay quick; release builds (CI) the full one.
func sizeForBuild(debug: Int, release: Int) -> Int {
    #if DEBUG
    return debug
    #else
    return release
    #endif
}

/// Mean fraction of the exact top-k found by the index's search.
func recall(_ index: HNSWIndex, queries: [[Float]], k: Int, ef: Int? = nil) throws -> Double {
    var found = 0
    for q in queries {
        let truth = Set(try index.exactSearch(q, k: k).map(\.label))
        found += try index.search(q, k: k, efSearch: ef).filter { truth.contains($0.label) }.count
    }
    return Double(found) / Double(queries.count * k)
}

func temporaryDatabasePath(_ name: String = #function) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vectorindex-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = dir.appendingPathComponent("\(safe)-\(UUID().uuidString).db").path
    return path
}
