import CKernels

/// How two vectors are compared. Smaller distance = closer.
/// - cosine: vectors are normalised on the way in; distance = 1 − a·b.
/// - dot: distance = 1 − a·b (inner product as in hnswlib; not a metric, but ranks by a·b).
/// - l2: squared Euclidean distance.
public enum Metric: String, Sendable, CaseIterable {
    case cosine, dot, l2

    var normalisesVectors: Bool { self == .cosine }

    /// The SIMD kernel this metric uses: dot product for cosine/dot, squared L2 for l2.
    var kernel: ck_distance_fn {
        switch self {
        case .cosine, .dot: return ck_dot_kernel()
        case .l2: return ck_l2sq_kernel()
        }
    }
}

/// Distance with one kernel call per pair, and batch forms over contiguous or gathered rows.
struct DistanceFunction {
    let metric: Metric
    let dimension: Int
    private let kernel: ck_distance_fn
    private let usesDot: Bool

    init(metric: Metric, dimension: Int) {
        self.metric = metric
        self.dimension = dimension
        self.kernel = metric.kernel
        self.usesDot = metric != .l2
    }

    @inline(__always)
    func callAsFunction(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        let raw = kernel(a, b, dimension)
        return usesDot ? 1 - raw : raw
    }

    /// out[i] = distance(q, row ids[i]) for rows `stride` bytes apart from `base`.
    @inline(__always)
    func gather(_ q: UnsafePointer<Float>, base: UnsafeRawPointer, stride: Int, ids: UnsafePointer<Int32>,
                count: Int, into out: UnsafeMutablePointer<Float>) {
        if usesDot {
            ck_dot_gather_f32(q, base, stride, dimension, ids, count, out)
            for i in 0..<count { out[i] = 1 - out[i] }
        } else {
            ck_l2sq_gather_f32(q, base, stride, dimension, ids, count, out)
        }
    }

    /// out[r] = distance(q, row r) for `count` rows `stride` bytes apart from `base`.
    func batch(_ q: UnsafePointer<Float>, base: UnsafeRawPointer, stride: Int, count: Int,
               into out: UnsafeMutablePointer<Float>) {
        if usesDot {
            ck_dot_batch_f32(q, base, stride, count, dimension, out)
            for i in 0..<count { out[i] = 1 - out[i] }
        } else {
            ck_l2sq_batch_f32(q, base, stride, count, dimension, out)
        }
    }
}

/// The kernel variant the CPU dispatcher chose ("avx512", "avx2" or "portable").
public var distanceKernelISA: String { String(cString: ck_distance_isa()) }
