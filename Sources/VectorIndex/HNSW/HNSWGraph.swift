import Foundation

/// The graph's memory, laid out as in hnswlib:
/// - `nodes`: one block per slot, `nodeBytes` apart: the vector [D] Float32, then the level-0 list
///   [1 + M0] Int32 = [count, neighbour slots…], each part padded to 64 bytes. A node's links sit
///   right after its vector, so the stream that reads the vector also brings in the links; big
///   buffers ask the kernel for huge pages (fewer TLB misses on random rows);
/// - `upper[slot]`: layers 1…level of that node, [level, 1 + M] flattened the same way;
/// - `levels[slot]` = the node's top layer, or −1 for a free slot (reused by later inserts).
final class HNSWGraph {
    let dimension: Int
    let M: Int
    let M0: Int
    /// Bytes from one node's block to the next (a multiple of 64).
    let nodeBytes: Int
    /// Bytes from a node's block to its level-0 list.
    let level0Offset: Int
    private(set) var capacity: Int
    /// Slots in use or freed so far: every slot ≥ slotCount is unused.
    var slotCount = 0
    private(set) var nodes: UnsafeMutableRawPointer
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

    /// `hugePages: false` leaves the first buffer to ordinary pages (see `adviseHugePages`).
    init(dimension: Int, M: Int, capacity: Int = 1024, hugePages: Bool = true) {
        self.dimension = dimension
        self.M = M
        self.M0 = 2 * M
        level0Offset = Self.roundUp(dimension * 4, 64)
        nodeBytes = level0Offset + Self.roundUp((1 + 2 * M) * 4, 64)
        self.capacity = max(capacity, 16)
        nodes = Self.allocateNodes(self.capacity, nodeBytes: nodeBytes, hugePages: hugePages)
        bind(0..<self.capacity)
    }

    deinit { nodes.deallocate() }

    private static func roundUp(_ x: Int, _ to: Int) -> Int { (x + to - 1) / to * to }

    /// 64-byte aligned; buffers of 2 MiB or more are 2 MiB aligned, and with `hugePages` advised to
    /// use huge pages (fewer TLB misses when the walk jumps between rows).
    private static func allocateNodes(_ capacity: Int, nodeBytes: Int, hugePages: Bool) -> UnsafeMutableRawPointer {
        let bytes = capacity * nodeBytes, huge = 2 << 20
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes >= huge ? huge : 64)
        if hugePages { adviseHugePages(raw, bytes: bytes) }
        return raw
    }

    private static func adviseHugePages(_ raw: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        if bytes >= 2 << 20 { _ = madvise(raw, bytes, Int32(MADV_HUGEPAGE)) }
        #endif
    }

    /// Advises huge pages for a buffer filled on ordinary pages. Loading does this last: faulting in
    /// fresh huge pages costs more than the load itself on a VM, while the kernel's background
    /// collapse gives searches the huge pages later at no cost to open time.
    func adviseHugePages() { Self.adviseHugePages(nodes, bytes: capacity * nodeBytes) }

    /// Binds each slot's two parts to their types (vector: Float, links: Int32).
    private func bind(_ slots: Range<Int>) {
        for s in slots {
            let block = nodes + s * nodeBytes
            block.bindMemory(to: Float.self, capacity: dimension)
            (block + level0Offset).bindMemory(to: Int32.self, capacity: level0Stride)
        }
    }

    func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        let bigger = Self.allocateNodes(newCapacity, nodeBytes: nodeBytes, hugePages: true)
        bigger.copyMemory(from: nodes, byteCount: slotCount * nodeBytes)
        nodes.deallocate()
        nodes = bigger
        capacity = newCapacity
        bind(0..<capacity)
    }

    @inline(__always) func vector(_ slot: Int32) -> UnsafeMutablePointer<Float> {
        (nodes + Int(slot) * nodeBytes).assumingMemoryBound(to: Float.self)
    }

    /// The level-0 list of `slot`: [count, neighbour slots…], room for M0.
    @inline(__always) func level0Row(_ slot: Int32) -> UnsafeMutablePointer<Int32> {
        (nodes + Int(slot) * nodeBytes + level0Offset).assumingMemoryBound(to: Int32.self)
    }

    func isAlive(_ slot: Int32) -> Bool { slot >= 0 && Int(slot) < slotCount && levels[Int(slot)] >= 0 }

    // MARK: neighbour lists

    /// The neighbour slots of `slot` at `level` (valid until the list is changed).
    @inline(__always)
    func withLinks<R>(_ slot: Int32, level: Int, _ body: (UnsafeBufferPointer<Int32>) -> R) -> R {
        if level == 0 {
            let row = level0Row(slot)
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
            let row = level0Row(slot)
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
            let row = level0Row(slot)
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
        level0Row(slot)[0] = 0
        upper[Int(slot)] = [Int32](repeating: 0, count: level * upperStride)
    }

    /// Empties `slot` and puts it on the free list.
    func release(_ slot: Int32) {
        let s = Int(slot)
        if levels[s] >= 0 { slotOfLabel.removeValue(forKey: labels[s]) }
        levels[s] = -1
        level0Row(slot)[0] = 0
        upper[s] = []
        freeSlots.append(slot)
    }
}
