/// The graph's memory, laid out as in hnswlib:
/// - `vectors`: one contiguous Float32 buffer [capacity, D], row = slot;
/// - `level0`: one flat Int32 buffer [capacity, 1 + M0], each row = [count, neighbour slots…];
/// - `upper[slot]`: layers 1…level of that node, [level, 1 + M] flattened the same way;
/// - `levels[slot]` = the node's top layer, or −1 for a free slot (reused by later inserts).
final class HNSWGraph {
    let dimension: Int
    let M: Int
    let M0: Int
    private(set) var capacity: Int
    /// Slots in use or freed so far: every slot ≥ slotCount is unused.
    var slotCount = 0
    var vectors: UnsafeMutablePointer<Float>
    var level0: UnsafeMutablePointer<Int32>
    var upper: [[Int32]] = []
    var levels: [Int32] = []
    var labels: [Int64] = []
    var slotOfLabel: [Int64: Int32] = [:]
    var freeSlots: [Int32] = []
    var entryPoint: Int32 = -1
    var maxLevel = -1

    var level0Stride: Int { 1 + M0 }
    var upperStride: Int { 1 + M }
    var count: Int { slotOfLabel.count }

    init(dimension: Int, M: Int, capacity: Int = 1024) {
        self.dimension = dimension
        self.M = M
        self.M0 = 2 * M
        self.capacity = max(capacity, 16)
        vectors = .allocate(capacity: self.capacity * dimension)
        level0 = .allocate(capacity: self.capacity * (1 + 2 * M))
    }

    deinit {
        vectors.deallocate()
        level0.deallocate()
    }

    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        let v = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimension)
        v.update(from: vectors, count: slotCount * dimension)
        vectors.deallocate()
        vectors = v
        let l = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity * level0Stride)
        l.update(from: level0, count: slotCount * level0Stride)
        level0.deallocate()
        level0 = l
        capacity = newCapacity
    }

    @inline(__always) func vector(_ slot: Int32) -> UnsafeMutablePointer<Float> {
        vectors + Int(slot) * dimension
    }

    func isAlive(_ slot: Int32) -> Bool { slot >= 0 && Int(slot) < slotCount && levels[Int(slot)] >= 0 }

    // MARK: neighbour lists

    /// The neighbour slots of `slot` at `level` (valid until the list is changed).
    @inline(__always)
    func withLinks<R>(_ slot: Int32, level: Int, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        if level == 0 {
            let row = level0 + Int(slot) * level0Stride
            return body(UnsafeBufferPointer(start: row + 1, count: Int(row[0])))
        }
        return upper[Int(slot)].withUnsafeBufferPointer { all in
            let row = all.baseAddress! + (level - 1) * upperStride
            return body(UnsafeBufferPointer(start: row + 1, count: Int(row[0])))
        }
    }

    func links(_ slot: Int32, level: Int) -> [Int32] { withLinks(slot, level: level) { Array($0) } }

    func setLinks(_ slot: Int32, level: Int, _ ids: [Int32]) {
        if level == 0 {
            let row = level0 + Int(slot) * level0Stride
            let n = min(ids.count, M0)
            row[0] = Int32(n)
            for i in 0..<n { row[1 + i] = ids[i] }
            return
        }
        let base = (level - 1) * upperStride
        let n = min(ids.count, M)
        upper[Int(slot)][base] = Int32(n)
        for i in 0..<n { upper[Int(slot)][base + 1 + i] = ids[i] }
    }

    /// Appends one link if there is room; false when the list is full.
    func appendLink(_ slot: Int32, level: Int, _ id: Int32) -> Bool {
        if level == 0 {
            let row = level0 + Int(slot) * level0Stride
            guard Int(row[0]) < M0 else { return false }
            row[1 + Int(row[0])] = id
            row[0] += 1
            return true
        }
        let base = (level - 1) * upperStride
        let n = Int(upper[Int(slot)][base])
        guard n < M else { return false }
        upper[Int(slot)][base + 1 + n] = id
        upper[Int(slot)][base] = Int32(n + 1)
        return true
    }

    // MARK: slots

    /// A slot for a new node (a freed one first), with empty lists for layers 0…level.
    func allocateSlot(level: Int) -> Int32 {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            reserve(slotCount + 1)
            slot = Int32(slotCount)
            slotCount += 1
            upper.append([])
            levels.append(-1)
            labels.append(0)
        }
        occupy(slot, level: level)
        return slot
    }

    /// Marks `slot` as holding a node with layers 0…level and empty lists.
    func occupy(_ slot: Int32, level: Int) {
        levels[Int(slot)] = Int32(level)
        level0[Int(slot) * level0Stride] = 0
        upper[Int(slot)] = [Int32](repeating: 0, count: level * upperStride)
    }

    /// Empties `slot` and puts it on the free list.
    func release(_ slot: Int32) {
        let s = Int(slot)
        if levels[s] >= 0 { slotOfLabel.removeValue(forKey: labels[s]) }
        levels[s] = -1
        level0[s * level0Stride] = 0
        upper[s] = []
        freeSlots.append(slot)
    }
}
