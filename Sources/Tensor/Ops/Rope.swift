import Foundation

// Rotary position embedding (RoFormer; Llama / Hugging Face): pair i of a head rotates by
// angle = pos · θ^(-2i/R), R the rotary dimension (≤ D; components past R are left as they are):
//   y[a] = x[a] cos - x[b] sin
//   y[b] = x[b] cos + x[a] sin
// Which two components (a, b) form pair i depends on the checkpoint's row order of Q/K:
//   .halves       (Hugging Face)  (i, i + R/2)   "rotate_half"
//   .interleaved  (GGUF)          (2i, 2i + 1)   llama.cpp's converter permutes the Q/K rows so
//                                 that adjacent rows hold what HF keeps R/2 apart.
// Backward is the inverse rotation. This is the reference; the generator's decode kernel
// (Generator/Kernels/RoPE.swift) is tested against it.

/// Pairing of RoPE components implied by the checkpoint's Q/K row order.
public enum RopeLayout: String, Sendable {
    case halves, interleaved
}

extension Tensor {
    /// x: [..., T, D]; row t is at position `positionOffset + t`. `rotaryDim` (even, ≤ D; default D)
    /// components of each row rotate, paired as `layout` says.
    public func rope(theta: Float, positionOffset: Int = 0, rotaryDim: Int? = nil, layout: RopeLayout = .halves) throws -> Tensor {
        guard rank >= 2, let d = shape.last else {
            throw TensorError.shapeMismatch("rope: needs [..., T, D], got \(shape)")
        }
        let r = rotaryDim ?? d
        guard r % 2 == 0, r > 0, r <= d else {
            throw TensorError.shapeMismatch("rope: rotary dimension \(r) must be even and at most D = \(d) (input \(shape))")
        }
        let t = shape[rank - 2]
        let table = Tensor.ropeTable(theta: theta, rotaryDim: r, positions: positionOffset..<(positionOffset + t))
        let out = Tensor.rotate(contiguousData(), table, t: t, d: d, layout: layout, inverse: false)
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.rotate(g.contiguousData(), table, t: t, d: d, layout: layout, inverse: true), owned: true)
        }
    }

    /// cos and sin of every pair at each position, [T, R/2] each, computed in Float32 the way
    /// transformers does (inv_freq = 1 / θ^(2i/R), then angle = pos · inv_freq).
    public static func ropeTable(theta: Float, rotaryDim r: Int, positions: Range<Int>) -> (cos: [Float], sin: [Float]) {
        let half = r / 2, t = positions.count
        var cosT = [Float](repeating: 0, count: t * half), sinT = cosT
        for i in 0..<half {
            let invFreq = 1 / Foundation.pow(theta, Float(2 * i) / Float(r))
            for (p, pos) in positions.enumerated() {
                let angle = Float(pos) * invFreq
                cosT[p * half + i] = Foundation.cos(angle); sinT[p * half + i] = Foundation.sin(angle)
            }
        }
        return (cosT, sinT)
    }

    static func rotate(_ x: Tensor, _ table: (cos: [Float], sin: [Float]), t: Int, d: Int, layout: RopeLayout, inverse: Bool) -> Tensor {
        let out = Tensor(zeros: x.shape)
        let pairs = table.cos.count / Swift.max(t, 1), rows = x.count / Swift.max(d, 1)
        let sign: Float = inverse ? -1 : 1
        let px = x.data, po = out.data
        po.update(from: px, count: x.count)   // components past the rotary ones stay as they are
        table.cos.withUnsafeBufferPointer { cosT in
            table.sin.withUnsafeBufferPointer { sinT in
                let pc = cosT.baseAddress!, ps = sinT.baseAddress!
                Threads.parallelFor(rows, costPerItem: 4 * pairs) { range in
                    for row in range {
                        let p = row % t
                        let src = px + row * d, dst = po + row * d
                        for i in 0..<pairs {
                            let (a, b) = layout == .halves ? (i, i + pairs) : (2 * i, 2 * i + 1)
                            let c = pc[p * pairs + i], s = sign * ps[p * pairs + i]
                            let x0 = src[a], x1 = src[b]
                            dst[a] = x0 * c - x1 * s
                            dst[b] = x1 * c + x0 * s
                        }
                    }
                }
            }
        }
        return out
    }
}
