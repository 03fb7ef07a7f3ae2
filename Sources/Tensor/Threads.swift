import CBLAS
import CKernels
import Dispatch
import Foundation
import Synchronization

/// Thread count for the tensor core: all cores, unless the program chose fewer with `use(_:)`
/// (the front ends read `RAG_THREADS`; the tensor core reads no environment).
///
/// One owner of the cores: OpenBLAS runs single-threaded, and the tensor core splits work over its
/// own threads (`parallelFor`, `sgemm`). Two pools on the same cores were slower than one: OpenBLAS's
/// workers spin after each call while ours wait for the same cores (bench-embed at 2 threads ran
/// below 1 thread), and concurrent callers of a threaded OpenBLAS serialise on its queue.
public enum Threads {
    public static var count: Int {
        let n = chosen.load(ordering: .relaxed)
        return n > 0 ? n : cores
    }

    /// Sets the thread count of every later call; nil or 0 goes back to all cores.
    public static func use(_ n: Int?) { chosen.store(Swift.max(0, n ?? 0), ordering: .relaxed) }

    private static let chosen = Atomic<Int>(0)
    private static let cores = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Makes OpenBLAS single-threaded once; every BLAS call site in the tensor core goes through this first.
    public static let blasConfigured: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// Below this many elements of work, elementwise and per-row loops stay on the calling thread.
    static let parallelCutoff = 1 << 15

    /// Runs `body` over `0..<n` split into contiguous chunks, in parallel when `n * costPerItem` is
    /// large enough to pay for the threads; serially otherwise.
    public static func parallelFor(_ n: Int, costPerItem: Int = 1, threads: Int = count, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, n)
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

    /// Multiply-adds from which `sgemm` uses ck_sgemm rather than BLAS.
    static let ownKernelsFrom = 1 << 18

    /// Whether large products run on the tensor core's own kernels rather than OpenBLAS: yes where
    /// the CPU has AVX-512 or AMX tiles (ours are faster there, and Debian's OpenBLAS 0.3.21 takes
    /// some AVX-512 CPUs for a Prescott), or where OpenBLAS runs a generic SSE core; no on an AVX2
    /// CPU it knows (Haswell, Zen): there cblas_sgemm measured 86–92 GFLOP/s against our AVX2
    /// kernel's 62–65 (1024², 2 threads, bench-tensor, an AMD EPYC, 2026-12-07).
    static let ownKernelsPreferred: Bool = {
        if ck_gemm_simd_level() >= 2 { return true }
        guard let name = openblas_get_corename() else { return true }
        let core = String(cString: name).lowercased()
        let generic = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood",
                       "banias", "generic", "unknown"]
        return generic.contains { core.hasPrefix($0) }
    }()

    /// Threads a product C[m, n] = A[m, k] B[k, n] is split over: one per 2 MFLOP, at most `threads`.
    /// (Parenthesised: in Swift `>>` binds tighter than `*`, and `2 * m * n * k >> 21` was
    /// 2 m n (k >> 21), zero for any k below two million, so no product was ever split.)
    static func productParts(m: Int, n: Int, k: Int, threads: Int) -> Int {
        min(threads, (2 * m * n * k) >> 21)
    }

    /// Row-major C = alpha op(A) op(B) + beta C (cblas_sgemm's arguments), split over `threads` by
    /// rows of C (or by columns when C has few rows) once the product is large enough to pay.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = count) {
        _ = blasConfigured
        func run(_ r: Range<Int>, _ cols: Range<Int>) {
            let pa = transA ? a + r.lowerBound : a + r.lowerBound * lda
            let pb = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            let pc = c + r.lowerBound * ldc + cols.lowerBound
            // Products big enough to pay for packing B run on the tensor core's own Float32 kernels
            // (AVX-512 / AVX2 tiles picked at run time) where those beat OpenBLAS (ownKernelsPreferred);
            // BLAS takes the rest (and any the kernels could not allocate for).
            if ownKernelsPreferred, r.count >= 16, r.count * cols.count * k >= ownKernelsFrom,
               ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, r.count, cols.count, k, alpha, pa, lda, pb, ldb, beta, pc, ldc) == 0 {
                return
            }
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(r.count), Int32(cols.count), Int32(k), alpha, pa, Int32(lda), pb, Int32(ldb),
                        beta, c + r.lowerBound * ldc + cols.lowerBound, Int32(ldc))
        }
        splitProduct(m: m, n: n, k: k, threads: threads, rowUnit: 8, columnUnit: 16, run)   // BLAS micro-tiles whole
    }

    /// Runs `run(rows, columns)` over blocks of C[m, n] on up to `threads` threads (productParts):
    /// by rows of C, or by columns when C has few rows, each block a whole number of `rowUnit` rows
    /// or `columnUnit` columns (the kernel's micro-tiles). Blocks are disjoint.
    static func splitProduct(m: Int, n: Int, k: Int, threads: Int, rowUnit: Int, columnUnit: Int,
                             _ run: (Range<Int>, Range<Int>) -> Void) {
        let parts = productParts(m: m, n: n, k: k, threads: threads)
        if parts <= 1 || m == 0 || n == 0 { run(0..<m, 0..<n); return }
        let byRows = m >= 16 * parts
        let total = byRows ? m : n
        let unit = byRows ? rowUnit : columnUnit
        let per = ((total + parts - 1) / parts + unit - 1) / unit * unit
        withoutActuallyEscaping(run) { run in
            let box = UncheckedSendable(run)   // parts write disjoint blocks of C
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                let lo = min(total, p * per), hi = min(total, lo + per)
                if lo < hi { byRows ? box.value(lo..<hi, 0..<n) : box.value(0..<m, lo..<hi) }
            }
        }
    }
}

extension Threads {
    /// Row-major C[m, n] = A[m, k] op(B) (+ C when `accumulate`), op(B) = B [k, n] or Bᵀ of B [n, k]
    /// (`transB`), with both operands rounded to bf16 and Float32 sums (ck_sgemm_bf16, AVX512-BF16),
    /// split over `threads` by rows of C (or columns when C has few rows). A part the kernel cannot
    /// take (no AVX512-BF16, no memory) runs in Float32 instead.
    public static func sgemmBF16(transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int, accumulate: Bool,
                                 c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = count) {
        func run(_ r: Range<Int>, _ cols: Range<Int>) {
            let pa = a + r.lowerBound * lda
            let pb = transB ? b + cols.lowerBound * ldb : b + cols.lowerBound
            let pc = c + r.lowerBound * ldc + cols.lowerBound
            if ck_sgemm_bf16(transB ? 1 : 0, r.count, cols.count, k, pa, lda, pb, ldb, accumulate ? 1 : 0, pc, ldc) == 0 { return }
            sgemm(transA: false, transB: transB, m: r.count, n: cols.count, k: k, alpha: 1, a: pa, lda: lda, b: pb, ldb: ldb,
                  beta: accumulate ? 1 : 0, c: pc, ldc: ldc, threads: 1)
        }
        splitProduct(m: m, n: n, k: k, threads: threads, rowUnit: 14, columnUnit: 32, run)   // 14 x 32 micro-tiles
    }
}

/// Carries a value into concurrent code that the caller guarantees is used without data races.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
