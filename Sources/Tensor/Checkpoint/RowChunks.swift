// Splitting the rows of a matrix product across threads (Dispatch), only when the work is big
// enough to pay for waking them.

import Dispatch

enum RowChunks {
    /// Below this many weights per call, one thread is faster than waking others (see bench-tensor).
    static let parallelCutoff = 1 << 18

    /// Calls `body` on contiguous row ranges covering 0..<rows, on up to `threads` threads when
    /// `rows * costPerRow` reaches the cutoff.
    static func run(rows: Int, costPerRow: Int, threads: Int, _ body: (Range<Int>) -> Void) {
        let chunks = min(max(threads, 1), rows)
        if chunks <= 1 || rows * costPerRow < parallelCutoff {
            if rows > 0 { body(0..<rows) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = DisjointRowsWork(body: body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let start = rows * c / chunks, end = rows * (c + 1) / chunks
                if start < end { work.body(start..<end) }
            }
        }
    }
}

/// The row body handed to worker threads: each call writes only its own rows, so no data race.
private struct DisjointRowsWork: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}
