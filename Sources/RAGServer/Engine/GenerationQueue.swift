import Foundation

/// Admission for generation: `parallel` slots run at once, up to `capacity` requests wait in FIFO
/// order, and anyone beyond that is refused at once (the route answers 429). A slot is released
/// exactly once, whoever gets there first: the generation's end, or the owner's deinit.
public actor GenerationQueue {
    public struct Full: Error {}
    public struct Abandoned: Error {}

    public let parallel: Int
    public let capacity: Int
    private var running = 0
    private var nextID = 0
    private var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []

    public init(parallel: Int, capacity: Int) {
        self.parallel = max(1, parallel); self.capacity = max(0, capacity)
    }

    public var depth: Int { waiters.count }
    public var active: Int { running }

    /// Waits for a slot. Throws `Full` when the queue is full and `Abandoned` when `cancel` is set
    /// while waiting (the client went away).
    public func acquire(cancel: CancelFlag) async throws -> Slot {
        if running < parallel {
            running += 1
            return Slot(queue: self)
        }
        guard waiters.count < capacity else { throw Full() }
        nextID += 1
        let id = nextID
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            waiters.append((id, c))
            cancel.onSet { Task { await self.abandon(id) } }
        }
        return Slot(queue: self)
    }

    private func abandon(_ id: Int) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(throwing: Abandoned())
    }

    fileprivate func release() {
        if waiters.isEmpty {
            running -= 1
        } else {
            // Hand the slot straight to the first waiter; `running` stays the same.
            waiters.removeFirst().continuation.resume()
        }
    }

    /// One running generation's hold on the queue.
    public final class Slot: @unchecked Sendable {
        private let queue: GenerationQueue
        private let lock = NSLock()
        private var released = false

        fileprivate init(queue: GenerationQueue) { self.queue = queue }

        public func release() async {
            guard take() else { return }
            await queue.release()
        }

        private func take() -> Bool {
            lock.withLock { defer { released = true }; return !released }
        }

        deinit {
            if take() { let q = queue; Task { await q.release() } }
        }
    }
}
