import Foundation

/// A node and its distance to the query.
struct Neighbor {
    var distance: Float
    var id: Int32
}

/// Binary max-heap on distance over a growable buffer (the worst result on top). A min-heap of
/// candidates is the same heap holding negated distances, as in hnswlib.
struct MaxHeap {
    private(set) var storage: UnsafeMutablePointer<Neighbor>
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    func free() { storage.deallocate() }

    var isEmpty: Bool { count == 0 }
    @inline(__always) var top: Neighbor { storage[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func push(_ distance: Float, _ id: Int32) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<Neighbor>.allocate(capacity: capacity * 2)
            bigger.update(from: storage, count: count)
            storage.deallocate()
            storage = bigger
            capacity *= 2
        }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            if storage[parent].distance >= distance { break }
            storage[i] = storage[parent]
            i = parent
        }
        storage[i] = Neighbor(distance: distance, id: id)
    }

    @inline(__always)
    @discardableResult
    mutating func pop() -> Neighbor {
        let result = storage[0]
        count -= 1
        if count > 0 {
            let last = storage[count]
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= count { break }
                var c = l
                if l + 1 < count && storage[l + 1].distance > storage[l].distance { c = l + 1 }
                if storage[c].distance <= last.distance { break }
                storage[i] = storage[c]
                i = c
            }
            storage[i] = last
        }
        return result
    }

    /// Empties the heap into an array sorted by ascending distance.
    mutating func drainAscending() -> [Neighbor] {
        var out = [Neighbor](repeating: Neighbor(distance: 0, id: 0), count: count)
        var i = count - 1
        while !isEmpty { out[i] = pop(); i -= 1 }
        return out
    }
}

/// Per-search working memory: visited marks tagged by generation (no clearing between searches),
/// the two heaps and gather buffers. Pooled so concurrent searches each get their own.
final class SearchScratch {
    private(set) var visited: UnsafeMutablePointer<UInt16>
    private(set) var visitedCapacity: Int
    private(set) var tag: UInt16 = 0
    var candidates = MaxHeap()
    var results = MaxHeap()
    let gatherIDs: UnsafeMutablePointer<Int32>
    let gatherDistances: UnsafeMutablePointer<Float>
    let query: UnsafeMutablePointer<Float>

    init(capacity: Int, maxLinks: Int, dimension: Int) {
        visitedCapacity = max(capacity, 16)
        visited = .allocate(capacity: visitedCapacity)
        visited.initialize(repeating: 0, count: visitedCapacity)
        gatherIDs = .allocate(capacity: maxLinks + 1)
        gatherDistances = .allocate(capacity: maxLinks + 1)
        query = .allocate(capacity: max(dimension, 1))
    }

    deinit {
        visited.deallocate()
        candidates.free()
        results.free()
        gatherIDs.deallocate()
        gatherDistances.deallocate()
        query.deallocate()
    }

    /// Starts a new search over `capacity` slots: bumps the tag (clearing only on wrap-around).
    func begin(capacity: Int) {
        if capacity > visitedCapacity {
            visited.deallocate()
            visitedCapacity = capacity * 2
            visited = .allocate(capacity: visitedCapacity)
            visited.initialize(repeating: 0, count: visitedCapacity)
            tag = 0
        }
        tag &+= 1
        if tag == 0 {
            visited.update(repeating: 0, count: visitedCapacity)
            tag = 1
        }
        candidates.removeAll()
        results.removeAll()
    }

    /// Marks `slot` visited; returns false if it already was.
    @inline(__always)
    func visit(_ slot: Int32) -> Bool {
        if visited[Int(slot)] == tag { return false }
        visited[Int(slot)] = tag
        return true
    }
}

/// A lock-protected pool of scratch spaces.
final class ScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [SearchScratch] = []
    let maxLinks: Int
    let dimension: Int

    init(maxLinks: Int, dimension: Int) {
        self.maxLinks = maxLinks
        self.dimension = dimension
    }

    func withScratch<R>(capacity: Int, _ body: (SearchScratch) throws -> R) rethrows -> R {
        lock.lock()
        let scratch = free.popLast() ?? SearchScratch(capacity: capacity, maxLinks: maxLinks, dimension: dimension)
        lock.unlock()
        defer {
            lock.lock()
            free.append(scratch)
            lock.unlock()
        }
        return try body(scratch)
    }
}

/// Many concurrent searches or one writer.
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() { pthread_rwlock_init(lock, nil) }
    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func read<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func write<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
