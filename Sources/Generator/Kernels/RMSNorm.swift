// RMSNorm over rows (inference, no autograd): y = x / sqrt(mean(x²) + eps) * weight.
// The allocation-free form of Tensor's `rmsNorm` op (the reference; sums here in Double), checked
// against it through the whole model by TrainableLlamaTests.

/// x, y: [rows, dim]; weight: [dim]. `y` may equal `x`.
func rmsNormRows(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float,
                 rows: Int, dim: Int, into y: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        var sumSquares: Double = 0
        for i in 0..<dim { sumSquares += Double(xr[i]) * Double(xr[i]) }
        let scale = Float(1 / (sumSquares / Double(dim) + Double(eps)).squareRoot())
        for i in 0..<dim { yr[i] = xr[i] * scale * weight[i] }
    }
}
