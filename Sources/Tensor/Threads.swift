import CBLAS
import Dispatch
import Foundation

/// Thread count for the tensor core: `RAG_THREADS`, or all cores.
public enum Threads {
    public static let count: Int = {
        if let s = ProcessInfo.processInfo.environment["RAG_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Sets OpenBLAS's thread count from `count` once; every BLAS call site goes through this first.
    static let blasConfigured: Bool = {
        openblas_set_num_threads(Int32(count))
        return true
    }()

    /// Below this many elements of work, elementwise and per-row loops stay on the calling thread.
    static let parallelCutoff = 1 << 15

    /// Runs `body` over `0..<n` split into contiguous chunks, in parallel when `n * costPerItem` is
    /// large enough to pay for the threads; serially otherwise.
    static func parallelFor(_ n: Int, costPerItem: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(count, n)
        if chunks <= 1 || n * costPerItem < parallelCutoff {
            if n > 0 { body(0..<n) }
            return
        }
        let per = (n + chunks - 1) / chunks
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)  // each chunk touches its own disjoint range
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = c * per, hi = min(n, lo + per)
                if lo < hi { box.value(lo..<hi) }
            }
        }
    }
}

/// Carries a value into concurrent code that the caller guarantees is used without data races.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
