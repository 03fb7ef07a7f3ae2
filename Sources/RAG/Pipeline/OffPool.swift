import Foundation

/// A flag a long-running synchronous job polls to stop early.
final class TaskCancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    var isCancelled: Bool { lock.lock(); defer { lock.unlock() }; return cancelled }
    func cancel() { lock.lock(); cancelled = true; lock.unlock() }
}

/// Runs CPU-bound work (generation, embedding a folder) on a thread of its own so it never blocks
/// Swift's cooperative pool (which on a 2-core machine has 2 threads serving every request).
/// Cancelling the calling task raises the flag the work polls.
func runOffPool<T: Sendable>(_ body: @escaping @Sendable (TaskCancellationFlag) throws -> T) async throws -> T {
    let flag = TaskCancellationFlag()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<T, Error>) in
            let thread = Thread {
                do { cont.resume(returning: try body(flag)) } catch { cont.resume(throwing: error) }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    } onCancel: {
        flag.cancel()
    }
}
