import SeededRandom

/// A search result: the external label (chunk id) and its distance to the query (smaller = closer).
public struct NearestNeighbour: Sendable, Equatable {
    public let label: Int64
    public let distance: Float

    public init(label: Int64, distance: Float) {
        self.label = label
        self.distance = distance
    }
}

/// Restricts a search to some labels.
public enum SearchFilter: Sendable {
    /// Only these labels (e.g. the chunk ids a path glob or metadata query selected).
    case labels(Set<Int64>)
    /// Only labels for which the predicate holds.
    case predicate(@Sendable (Int64) -> Bool)

    func allows(_ label: Int64) -> Bool {
        switch self {
        case .labels(let set): return set.contains(label)
        case .predicate(let p): return p(label)
        }
    }
}

/// Hierarchical navigable small world graph (Malkov & Yashunin 2018) over Float32 vectors with
/// Int64 labels. Searches may run concurrently; inserts and deletes take the write lock.
public final class HNSWIndex: @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    public let parameters: HNSWParameters
    let graph: HNSWGraph
    let distance: DistanceFunction
    var generator: SplitMix64
    let lock = ReadWriteLock()
    let scratchPool: ScratchPool
    /// Slots changed since the last write to SQLite.
    var dirty: Set<Int32> = []
    /// The next write must replace every stored row (new index, or loaded from elsewhere).
    var needsFullWrite = true
    /// Undo log of the open `update(in:)`, nil outside one.
    var changeSet: ChangeSet?

    public convenience init(dimension: Int, metric: Metric, parameters: HNSWParameters = HNSWParameters(),
                            capacity: Int = 1024) throws {
        try self.init(dimension: dimension, metric: metric, parameters: parameters, capacity: capacity, hugePages: true)
    }

    init(dimension: Int, metric: Metric, parameters: HNSWParameters, capacity: Int, hugePages: Bool) throws {
        guard dimension > 0 else { throw VectorIndexError.invalidParameter("dimension must be > 0, got \(dimension)") }
        try parameters.validate()
        self.dimension = dimension
        self.metric = metric
        self.parameters = parameters
        self.graph = HNSWGraph(dimension: dimension, M: parameters.M, capacity: capacity, hugePages: hugePages)
        self.distance = DistanceFunction(metric: metric, dimension: dimension)
        self.generator = SplitMix64(seed: parameters.seed)
        self.scratchPool = ScratchPool(maxLinks: parameters.M0, dimension: dimension)
    }

    /// Number of labels in the index.
    public var count: Int { lock.read { graph.count } }

    public func contains(_ label: Int64) -> Bool { lock.read { graph.slotOfLabel[label] != nil } }

    /// All labels, in slot order.
    public var labels: [Int64] {
        lock.read { (0..<graph.slotCount).compactMap { graph.levels[$0] >= 0 ? graph.labels[$0] : nil } }
    }

    /// The stored vector of `label` (normalised for cosine), or nil.
    public func vector(for label: Int64) -> [Float]? {
        lock.read {
            guard let slot = graph.slotOfLabel[label] else { return nil }
            return Array(UnsafeBufferPointer(start: graph.vector(slot), count: dimension))
        }
    }

    /// Checks a vector and copies it (normalised for cosine) into `out`.
    func prepare(_ v: UnsafeBufferPointer<Float>, label: Int64?, into out: UnsafeMutablePointer<Float>) throws {
        guard v.count == dimension else {
            throw VectorIndexError.dimensionMismatch(expected: dimension, got: v.count, label: label)
        }
        var norm2: Float = 0
        for i in 0..<dimension {
            let x = v[i]
            guard x.isFinite else { throw VectorIndexError.nonFiniteValue(label: label, position: i) }
            norm2 += x * x
        }
        if metric.normalisesVectors {
            guard norm2 > 0 else { throw VectorIndexError.zeroVector(label: label) }
            let inv = 1 / norm2.squareRoot()
            for i in 0..<dimension { out[i] = v[i] * inv }
        } else {
            for i in 0..<dimension { out[i] = v[i] }
        }
    }
}
