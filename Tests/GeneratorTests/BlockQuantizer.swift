// Test-side encoders of ggml's Q8_0 and Q4_1 blocks (round to nearest, as llama.cpp's reference
// quantizers), to build quantized tiny models and random quantized matrices.

import CKernels

enum BlockQuantizer {
    static func half(_ x: Float) -> [UInt8] {
        var f = x, h: UInt16 = 0
        ck_f32_to_f16(&f, &h, 1)
        return [UInt8(h & 0xFF), UInt8(h >> 8)]
    }

    static func halfValue(_ x: Float) -> Float {
        var f = x, h: UInt16 = 0, back: Float = 0
        ck_f32_to_f16(&f, &h, 1)
        ck_f16_to_f32(&h, &back, 1)
        return back
    }

    /// Q8_0: { f16 d; int8 q[32] }, d = max|x| / 127.
    static func q8_0(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        for b in stride(from: 0, to: values.count, by: 32) {
            let block = values[b..<b + 32]
            let d = (block.map(abs).max() ?? 0) / 127
            let id = d == 0 ? 0 : 1 / d
            out += half(d)
            out += block.map { UInt8(bitPattern: Int8(max(-127, min(127, ($0 * id).rounded())))) }
        }
        return out
    }

    /// Q4_1: { f16 d; f16 m; u8 q[16] }, m = min, d = (max - min) / 15; byte j holds element j
    /// (low nibble) and j + 16 (high).
    static func q4_1(_ values: [Float]) -> [UInt8] {
        var out: [UInt8] = []
        for b in stride(from: 0, to: values.count, by: 32) {
            let block = Array(values[b..<b + 32])
            let lo = block.min() ?? 0, hi = block.max() ?? 0
            let d = (hi - lo) / 15, id = d == 0 ? 0 : 1 / d
            out += half(d) + half(lo)
            let m = halfValue(lo)
            let q = block.map { UInt8(max(0, min(15, (($0 - m) * id).rounded()))) }
            out += (0..<16).map { q[$0] | q[$0 + 16] << 4 }
        }
        return out
    }
}
