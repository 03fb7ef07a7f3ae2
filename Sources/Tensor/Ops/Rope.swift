import Foundation

// Rotary position embedding, rotate-half convention (Llama / Hugging Face):
// for i < D/2, with angle = pos * theta^(-2i/D):
//   y[i]       = x[i] cos - x[i + D/2] sin
//   y[i + D/2] = x[i + D/2] cos + x[i] sin
// Backward is the inverse rotation.

extension Tensor {
    /// x: [..., T, D] (D even); row t is at position `positionOffset + t`.
    public func rope(theta: Float, positionOffset: Int = 0) throws -> Tensor {
        guard rank >= 2, let d = shape.last, d % 2 == 0 else {
            throw TensorError.shapeMismatch("rope: needs [..., T, D] with even D, got \(shape)")
        }
        let t = shape[rank - 2], half = d / 2
        // cos/sin table [T, D/2], computed in Float32 the way HF does (inv_freq, then pos * inv_freq).
        var cosT = [Float](repeating: 0, count: t * half), sinT = cosT
        for i in 0..<half {
            let invFreq = 1 / Foundation.pow(theta, Float(2 * i) / Float(d))
            for p in 0..<t {
                let angle = Float(positionOffset + p) * invFreq
                cosT[p * half + i] = Foundation.cos(angle); sinT[p * half + i] = Foundation.sin(angle)
            }
        }
        let out = Tensor.rotate(contiguousData(), cosT, sinT, t: t, d: d, inverse: false)
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.rotate(g.contiguousData(), cosT, sinT, t: t, d: d, inverse: true))
        }
    }

    static func rotate(_ x: Tensor, _ cosT: [Float], _ sinT: [Float], t: Int, d: Int, inverse: Bool) -> Tensor {
        let out = Tensor(zeros: x.shape)
        let half = d / 2, rows = x.count / d
        let sign: Float = inverse ? -1 : 1
        for r in 0..<rows {
            let p = r % t
            let src = x.data + r * d, dst = out.data + r * d
            for i in 0..<half {
                let c = cosT[p * half + i], s = sign * sinT[p * half + i]
                let a = src[i], b = src[i + half]
                dst[i] = a * c - b * s
                dst[i + half] = b * c + a * s
            }
        }
        return out
    }
}
