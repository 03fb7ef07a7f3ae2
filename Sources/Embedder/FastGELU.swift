import Tensor

// Inference-only GELU with a rational approximation of erf (max error 3e-7 on [-4, 4], clamped
// outside): Tensor's `gelu()` calls libm's erff per element, which took ~12% of encoder time
// (perf, all-MiniLM-L6-v2, 256 tokens). This loop has no calls, so it vectorises.
// Stop-gap: belongs in Tensor's gelu; training keeps using `gelu()` (with its backward).

extension Tensor {
    /// 0.5 x (1 + erf(x / sqrt 2)) elementwise, no autograd.
    func geluNoGrad() -> Tensor {
        let x = isContiguous ? self : denseCopy()
        let out = Tensor(zeros: shape)
        let src = x.data, dst = out.data
        for i in 0..<count {
            let v = src[i]
            dst[i] = 0.5 * v * (1 + fastErf(v * 0.70710678118654752))
        }
        return out
    }
}

@inline(__always)
func fastErf(_ value: Float) -> Float {
    let x = Swift.min(Swift.max(value, -4), 4)
    let x2 = x * x
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q: Float = -1.45660718464996e-05
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return x * p / q
}
