import SeededRandom

/// Undo log of one `update(in:)`: the state of every slot before its first change, and the
/// graph-wide fields at the start. Applied when the caller's transaction rolls back.
struct ChangeSet {
    struct NodeState {
        var level: Int32
        var label: Int64
        var vector: [Float]
        var level0: [Int32]
        var upper: [Int32]
    }

    let slotCount: Int
    let freeSlots: [Int32]
    let entryPoint: Int32
    let maxLevel: Int
    let generator: SplitMix64
    let dirty: Set<Int32>
    let needsFullWrite: Bool
    private(set) var nodes: [Int32: NodeState] = [:]

    init(index: HNSWIndex) {
        let g = index.graph
        slotCount = g.slotCount
        freeSlots = g.freeSlots
        entryPoint = g.entryPoint
        maxLevel = g.maxLevel
        generator = index.generator
        dirty = index.dirty
        needsFullWrite = index.needsFullWrite
    }

    /// Saves `slot` before its first change in this change set.
    mutating func record(_ slot: Int32, graph g: HNSWGraph) {
        guard nodes[slot] == nil, Int(slot) < slotCount else { return }
        let s = Int(slot)
        guard g.levels[s] >= 0 else { return recordAllocated(slot) }
        let row = g.level0Row(slot)
        nodes[slot] = NodeState(level: g.levels[s], label: g.labels[s],
                                vector: Array(UnsafeBufferPointer(start: g.vector(slot), count: g.dimension)),
                                level0: Array(UnsafeBufferPointer(start: row, count: g.level0Stride)),
                                upper: g.upper[s])
    }

    /// Notes that `slot` was free (or new) before this change set.
    mutating func recordAllocated(_ slot: Int32) {
        guard nodes[slot] == nil else { return }
        nodes[slot] = NodeState(level: -1, label: 0, vector: [], level0: [], upper: [])
    }

    /// Puts the index back to the state at the start of the change set.
    func undo(_ index: HNSWIndex) {
        let g = index.graph
        for slot in nodes.keys where Int(slot) < g.slotCount && g.levels[Int(slot)] >= 0 {
            g.slotOfLabel.removeValue(forKey: g.labels[Int(slot)])
        }
        for (slot, state) in nodes where Int(slot) < slotCount {
            let s = Int(slot)
            g.levels[s] = state.level
            guard state.level >= 0 else {
                g.level0Row(slot)[0] = 0
                g.upper[s] = []
                continue
            }
            g.labels[s] = state.label
            g.vector(slot).update(from: state.vector, count: g.dimension)
            g.level0Row(slot).update(from: state.level0, count: g.level0Stride)
            g.upper[s] = state.upper
            g.slotOfLabel[state.label] = slot
        }
        g.slotCount = slotCount
        g.levels.removeSubrange(slotCount...)
        g.labels.removeSubrange(slotCount...)
        g.upper.removeSubrange(slotCount...)
        g.freeSlots = freeSlots
        g.entryPoint = entryPoint
        g.maxLevel = maxLevel
        index.generator = generator
        index.dirty = dirty
        index.needsFullWrite = needsFullWrite
    }
}
