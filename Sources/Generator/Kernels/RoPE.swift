// Rotary position embedding (RoFormer) applied in place to the heads of one token.
// Pair i of a head rotates by angle pos · θ^(-2i/d). Which two components form pair i depends on
// the checkpoint's row order of the Q/K weights:
//   .halves       (Hugging Face)  components (i, i + d/2)   — "rotate_half"
//   .interleaved  (GGUF)          components (2i, 2i + 1)   — llama.cpp's converter permutes the
//                                 Q/K rows so that adjacent rows hold what HF keeps d/2 apart.
// The allocation-free form of Tensor's `rope` op (the reference, which also defines RopeLayout);
// TrainableLlamaTests checks the two agree through the whole model.

import Foundation
import Tensor

/// cos/sin of every pair for one position: [d/2] each. Frequencies rounded to Float32 as
/// transformers does (inv_freq = 1 / θ^(2i/d) in float32, angle = pos · inv_freq in float32).
struct RopeTable {
    let pairs: Int
    private let inverseFrequencies: [Float]

    init(theta: Float, rotaryDim: Int) {
        pairs = rotaryDim / 2
        inverseFrequencies = (0..<rotaryDim / 2).map { i in 1 / powf(theta, Float(2 * i) / Float(rotaryDim)) }
    }

    /// Writes cos and sin of the `pairs` angles at `position`.
    func angles(position: Int, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        for i in 0..<pairs {
            let angle = Float(position) * inverseFrequencies[i]
            c[i] = Foundation.cos(angle)
            s[i] = Foundation.sin(angle)
        }
    }
}

/// Rotates `heads` consecutive vectors of `headDim` at `x` (one token) by the angles `cos`/`sin`
/// ([pairs] each, pairs ≤ headDim/2; components past 2·pairs are left as they are).
func applyRope(_ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, layout: RopeLayout,
               pairs: Int, cos c: UnsafePointer<Float>, sin s: UnsafePointer<Float>) {
    for h in 0..<heads {
        let v = x + h * headDim
        for i in 0..<pairs {
            let (a, b) = layout == .halves ? (i, i + pairs) : (2 * i, 2 * i + 1)
            let x0 = v[a], x1 = v[b]
            v[a] = x0 * c[i] - x1 * s[i]
            v[b] = x1 * c[i] + x0 * s[i]
        }
    }
}
