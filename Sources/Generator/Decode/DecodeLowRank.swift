// A LoRA update of one projection inside a decode step (one token), split like the projection:
//   h[r] = A x                 once, on the calling thread (r ≈ 4–64: a few thousand products)
//   y[rows] += scale · B[rows] h   by each chunk, for the rows of W it has just multiplied
// so y = W x + scale · B(A x), as LowRankUpdate.add computes for a batch.

import CBLAS

struct DecodeLowRank {
    private let update: LowRankUpdate
    private let h: UnsafeMutablePointer<Float>

    /// nil when the projection has no update. `scratch` holds at least the update's rank floats.
    init?(_ update: LowRankUpdate?, input x: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        guard let update else { return nil }
        self.update = update
        h = scratch
        let r = update.rank, input = update.a.shape[1]
        // h[r] = A[r, in] x
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(r), blasint(input), 1, update.a.data, blasint(input), x, 1, 0, h, 1)
    }

    /// y[i] += scale · B[i] · h for i in `rows`.
    func add(rows: Range<Int>, into y: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        let r = update.rank
        cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(rows.count), blasint(r), update.scale,
                    update.b.data + rows.lowerBound * r, blasint(r), h, 1, 1, y + rows.lowerBound, 1)
    }
}
