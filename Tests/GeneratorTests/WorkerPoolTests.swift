// The decode worker pool: every chunk of every section runs exactly once, for many short sections
// back to back (as in decoding) and with more chunks than threads; shares tile their range.

import XCTest
@testable import Generator

final class WorkerPoolTests: XCTestCase {
    func testEveryChunkRunsOnceInManySections() {
        for threads in [1, 2, 3] {
            let pool = WorkerPool(threads: threads)
            XCTAssertEqual(pool.threads, threads)
            let runs = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
            defer { runs.deallocate() }
            var bad = 0
            for section in 0..<3000 {
                let chunks = 1 + section % 37
                runs.initialize(repeating: 0)
                pool.run(chunks: chunks) { chunk, count in
                    if count == chunks { runs[chunk] += 1 }
                }
                if runs[0..<chunks].contains(where: { $0 != 1 }) || runs[chunks...].contains(where: { $0 != 0 }) { bad += 1 }
            }
            XCTAssertEqual(bad, 0, "\(threads) threads: sections with a chunk missed or repeated")
        }
    }

    func testSectionsAfterThePoolWentToSleep() {
        let pool = WorkerPool(threads: 2)
        var total = [Int](repeating: 0, count: 8)
        for _ in 0..<3 {
            Thread.sleep(forTimeInterval: 0.02)  // longer than the workers spin
            total.withUnsafeMutableBufferPointer { t in pool.run(chunks: 8) { chunk, _ in t[chunk] += 1 } }
        }
        XCTAssertEqual(total, [Int](repeating: 3, count: 8))
    }

    func testSharesTileTheRangeInGranules() {
        for count in [0, 1, 5, 192, 576, 1537] {
            for chunks in [1, 2, 3, 8] {
                for granule in [1, 4] {
                    var covered: [Int] = []
                    for c in 0..<chunks {
                        let r = WorkerPool.share(count, chunk: c, chunks: chunks, granule: granule)
                        if !r.isEmpty {  // starts on a granule; only the last share may be shorter
                            XCTAssertEqual(r.lowerBound % granule, 0)
                            if r.upperBound != count { XCTAssertEqual(r.count % granule, 0) }
                        }
                        covered += Array(r)
                    }
                    XCTAssertEqual(covered, Array(0..<count), "count \(count), chunks \(chunks), granule \(granule)")
                }
            }
        }
    }
}
