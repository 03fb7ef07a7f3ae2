import Foundation

/// Ranked merges of byte-level BPE and the merge loop: repeatedly joins the adjacent pair of lowest
/// rank (leftmost first on ties), using a min-heap of candidate pairs and a linked list of symbols,
/// so a long pre-token costs O(n log n). Results for repeated pre-tokens come from a cache.
final class BPEMerges: @unchecked Sendable {  // immutable tables + a lock-protected cache
    private let pairs: [UInt64: (rank: Int32, merged: Int32)]
    private let lock = NSLock()
    private var cache: [[Int32]: [Int32]] = [:]
    private let cacheLimit = 100_000

    init(pairs: [UInt64: (rank: Int32, merged: Int32)]) { self.pairs = pairs }

    /// The merge pairs (left id, right id) by rank, lowest first: the `merges` list of tokenizer.json.
    var rankedPairs: [(Int32, Int32)] {
        pairs.sorted { $0.value.rank < $1.value.rank }.map { (Int32(truncatingIfNeeded: $0.key >> 32), Int32(truncatingIfNeeded: $0.key)) }
    }

    @inline(__always) static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    /// Merges `symbols` (token ids of single bytes) into final token ids.
    func apply(_ symbols: [Int32]) -> [Int32] {
        if symbols.count < 2 { return symbols }
        lock.lock()
        let hit = cache[symbols]
        lock.unlock()
        if let hit { return hit }
        let merged = merge(symbols)
        lock.lock()
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[symbols] = merged
        lock.unlock()
        return merged
    }

    private func merge(_ symbols: [Int32]) -> [Int32] {
        let n = symbols.count
        var ids = symbols
        var next = Array(1...n).map(Int32.init)
        next[n - 1] = -1
        var prev = (0..<n).map { Int32($0) - 1 }
        var alive = [Bool](repeating: true, count: n)
        var heap = BinaryHeap<UInt64>()  // (rank << 32 | position)
        func push(_ left: Int32) {
            let right = next[Int(left)]
            guard right >= 0, let entry = pairs[Self.key(ids[Int(left)], ids[Int(right)])] else { return }
            heap.push(UInt64(UInt32(entry.rank)) << 32 | UInt64(UInt32(left)))
        }
        for i in 0..<(n - 1) { push(Int32(i)) }
        while let top = heap.pop() {
            let rank = Int32(truncatingIfNeeded: top >> 32), left = Int(UInt32(truncatingIfNeeded: top))
            guard alive[left] else { continue }
            let right = Int(next[left])
            guard right >= 0, let entry = pairs[Self.key(ids[left], ids[right])], entry.rank == rank else { continue }
            ids[left] = entry.merged
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { prev[Int(next[right])] = Int32(left) }
            if prev[left] >= 0 { push(prev[left]) }
            push(Int32(left))
        }
        var out: [Int32] = []
        var i: Int32 = 0
        while i >= 0 { out.append(ids[Int(i)]); i = next[Int(i)] }
        return out
    }
}
