import Foundation

/// Scratch memory of one inference worker: numbered buffers that grow on demand and are reused
/// from call to call, so a forward pass allocates and zeroes nothing per op. Contents are whatever
/// the last user left. One workspace per thread at a time (take them from a `WorkspacePool`).
public final class InferenceWorkspace {
    private var buffers: [UnsafeMutablePointer<Float>] = []
    private var capacities: [Int] = []

    public init() {}

    /// At least `count` floats in buffer `slot` (64-byte aligned, uninitialised on growth).
    public func buffer(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while buffers.count <= slot {
            buffers.append(Self.allocate(1))
            capacities.append(1)
        }
        if capacities[slot] < count {
            buffers[slot].deallocate()
            buffers[slot] = Self.allocate(count)
            capacities[slot] = count
        }
        return buffers[slot]
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { for b in buffers { b.deallocate() } }
}

/// Workspaces kept between calls (one per concurrently running worker), thread-safe.
public final class WorkspacePool: @unchecked Sendable {
    private var free: [InferenceWorkspace] = []
    private let lock = NSLock()

    public init() {}

    /// Runs `body` with a workspace nobody else uses meanwhile; it returns to the pool afterwards.
    public func withWorkspace<T>(_ body: (InferenceWorkspace) throws -> T) rethrows -> T {
        let ws = lock.withLock { free.popLast() } ?? InferenceWorkspace()
        defer { lock.withLock { free.append(ws) } }
        return try body(ws)
    }
}
