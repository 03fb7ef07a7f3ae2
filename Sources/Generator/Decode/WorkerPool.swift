// Threads created once per Generator and woken for each parallel section of a decode step
// (CKernels' ck_pool: spin briefly, then sleep on a futex). One token is about 150 sections of
// tens of microseconds each, too short to pay for a Dispatch fork/join every time.

import CKernels

final class WorkerPool {
    /// Threads taking part in each section, the caller included.
    let threads: Int
    private let pool: OpaquePointer?

    init(threads: Int) {
        pool = threads > 1 ? ck_pool_create(Int32(threads)) : nil
        self.threads = pool.map { Int(ck_pool_threads($0)) } ?? 1
    }

    deinit {
        if let pool { ck_pool_destroy(pool) }
    }

    /// Chunks a section is cut into: a few per thread, so a thread that starts late does fewer.
    var chunks: Int { threads == 1 ? 1 : 4 * threads }

    /// Calls body(chunk, chunks) once for each chunk in 0 ..< chunks, spread over the threads, and
    /// returns when all have finished. Chunks must write disjoint memory.
    func run(chunks: Int, _ body: (_ chunk: Int, _ chunks: Int) -> Void) {
        guard let pool, chunks > 1 else {
            for c in 0..<chunks { body(c, chunks) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var section = Section(body: body)
            withUnsafeMutablePointer(to: &section) { context in
                ck_pool_run(pool, { context, chunk, chunks in
                    guard let context else { return }
                    context.assumingMemoryBound(to: Section.self).pointee.body(Int(chunk), Int(chunks))
                }, context, Int32(chunks))
            }
        }
    }

    /// `run` with the default number of chunks.
    func run(_ body: (_ chunk: Int, _ chunks: Int) -> Void) { run(chunks: chunks, body) }

    /// Chunk `chunk`'s share of `count` items: contiguous, in multiples of `granule` (the last may be shorter).
    static func share(_ count: Int, chunk: Int, chunks: Int, granule: Int = 4) -> Range<Int> {
        let perChunk = (count + chunks * granule - 1) / (chunks * granule) * granule
        let lo = min(count, chunk * perChunk)
        return lo..<min(count, lo + perChunk)
    }
}

private struct Section {
    let body: (Int, Int) -> Void
}
