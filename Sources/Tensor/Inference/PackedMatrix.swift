import CKernels

/// A Linear weight W [out, in] (PyTorch layout) packed as the right operand of `Inference.linear`'s
/// own GEMM (ck_sgemm_packed: 16-column panels of W^T). Packing costs about one pass over W, so it
/// pays off for calls of many tokens; the packed copy is read-only and shared by all threads.
public final class PackedMatrix: @unchecked Sendable {
    public let outFeatures: Int, inFeatures: Int
    let data: UnsafeMutablePointer<Float>

    /// Packs `weight` [outFeatures, inFeatures].
    public init(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int) {
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        let count = max(ck_sgemm_packed_size(outFeatures, inFeatures), 1)
        data = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        ck_sgemm_pack_rows(weight, inFeatures, outFeatures, inFeatures, 1, data)
    }

    /// Packs several weights of the same `inFeatures` stacked row-wise (e.g. Q, K and V as one [3C, C]).
    public convenience init(stacking weights: [Tensor]) {
        let inFeatures = weights.first?.shape.last ?? 0
        let rows = weights.reduce(0) { $0 + $1.shape[0] }
        let stacked = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * inFeatures, 1))
        defer { stacked.deallocate() }
        var row = 0
        for w in weights {
            (stacked + row * inFeatures).update(from: w.data, count: w.shape[0] * inFeatures)
            row += w.shape[0]
        }
        self.init(weight: stacked, outFeatures: rows, inFeatures: inFeatures)
    }

    deinit { data.deallocate() }
}
