// The SwiGLU gate of the Llama MLP: gate ← silu(gate) ⊙ up, silu(x) = x · σ(x).
// The allocation-free form of Tensor's `silu` + multiply (the reference), checked against it
// through the whole model by TrainableLlamaTests.

import Foundation

func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}
