import CKernels

/// A Linear weight W [out, in] (PyTorch layout) packed as the right operand of `Inference.linear`'s
/// own GEMM. Packing costs about one pass over W, so it pays off for calls of many tokens; the
/// packed copy is read-only and shared by all threads.
///
/// The layout follows the CPU at packing time: on a CPU with AMX tiles, bfloat16 hi + lo parts for
/// ck_sgemm_bf16x3 (three bf16 products, about 16 bits of each operand); elsewhere 16-column Float32
/// panels of W^T for ck_sgemm_packed.
public final class PackedMatrix: @unchecked Sendable {
    public enum Layout: Sendable { case float32Panels, bf16x3Tiles }

    public let outFeatures: Int, inFeatures: Int
    public let layout: Layout
    let data: UnsafeMutableRawPointer

    /// Packs `weight` [outFeatures, inFeatures]; `layout` nil picks the CPU's best.
    public init(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int, layout: Layout? = nil) {
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        let layout = layout ?? (ck_gemm_simd_level() >= 3 ? .bf16x3Tiles : .float32Panels)
        self.layout = layout
        switch layout {
        case .float32Panels:
            let count = max(ck_sgemm_packed_size(outFeatures, inFeatures), 1)
            data = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            ck_sgemm_pack_rows(weight, inFeatures, outFeatures, inFeatures, 1,
                               data.bindMemory(to: Float.self, capacity: count))
        case .bf16x3Tiles:
            let count = max(ck_sgemm_bf16x3_packed_size(outFeatures, inFeatures), 1)
            data = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<UInt16>.stride, alignment: 64)
            ck_sgemm_bf16x3_pack_rows(weight, inFeatures, outFeatures, inFeatures, 1,
                                      data.bindMemory(to: UInt16.self, capacity: count))
        }
    }

    /// Packs several weights of the same `inFeatures` stacked row-wise (e.g. Q, K and V as one [3C, C]).
    public convenience init(stacking weights: [Tensor], layout: Layout? = nil) {
        let inFeatures = weights.first?.shape.last ?? 0
        let rows = weights.reduce(0) { $0 + $1.shape[0] }
        let stacked = UnsafeMutablePointer<Float>.allocate(capacity: max(rows * inFeatures, 1))
        defer { stacked.deallocate() }
        var row = 0
        for w in weights {
            (stacked + row * inFeatures).update(from: w.data, count: w.shape[0] * inFeatures)
            row += w.shape[0]
        }
        self.init(weight: stacked, outFeatures: rows, inFeatures: inFeatures, layout: layout)
    }

    /// y[rows, out] (row stride ldy) = x[rows, in] W^T + bias, GELU'd when `gelu`.
    func multiply(_ x: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>?, gelu: Bool,
                  into y: UnsafeMutablePointer<Float>, ldy: Int) {
        let (n, k) = (outFeatures, inFeatures)
        switch layout {
        case .float32Panels:
            let b = UnsafePointer(data.assumingMemoryBound(to: Float.self))
            if gelu { ck_sgemm_packed_gelu(rows, n, k, x, k, b, bias, y, ldy) } else { ck_sgemm_packed(rows, n, k, x, k, b, bias, y, ldy) }
        case .bf16x3Tiles:
            ck_sgemm_bf16x3(rows, n, k, x, k, data.assumingMemoryBound(to: UInt16.self), bias, nil, gelu ? 1 : 0, y, ldy)
        }
    }

    deinit { data.deallocate() }
}
