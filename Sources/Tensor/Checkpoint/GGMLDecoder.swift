// Turns ggml-typed bytes into Float32, one place for every decodable type (kernels in CKernels).

import CKernels

enum GGMLDecoder {
    /// Decodes `count` values (whole blocks) of `type` at `src` into `dst`; false when the type
    /// is not one of `GGMLType.decodable` (nothing written).
    @discardableResult
    static func decode(_ type: GGMLType, from src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        let bytes = src.assumingMemoryBound(to: UInt8.self)
        switch type {
        case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
        case .f16, .bf16:
            var halves = [UInt16](repeating: 0, count: count)  // copied: the source may be misaligned
            halves.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: src, count: count * 2)) }
            if type == .f16 { ck_f16_to_f32(halves, dst, count) } else { ck_bf16_to_f32(halves, dst, count) }
        case .q8_0: ck_dequant_q8_0(bytes, dst, count)
        case .q4_0: ck_dequant_q4_0(bytes, dst, count)
        case .q4_1: ck_dequant_q4_1(bytes, dst, count)
        case .q4_K: ck_dequant_q4_k(bytes, dst, count)
        case .q6_K: ck_dequant_q6_k(bytes, dst, count)
        default: return false
        }
        return true
    }
}
