import CKernels
import Foundation

// Activations (elementwise) and softmax / log-softmax over the last axis (numerically stable).

extension Tensor {
    /// GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)) (BERT's "gelu").
    /// Forward through CKernels' vectorised erf (|error| < 3e-7); backward with libm's erff.
    public func gelu() -> Tensor {
        let out = denseCopy()
        let po = out.data
        Threads.parallelFor(count, costPerItem: 16) { r in
            ck_bias_gelu_f32(po + r.lowerBound, nil, 1, r.count)
        }
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.zipMap(g, self) { g, x in
                g * (0.5 * (1 + erff(x * 0.70710678)) + x * Foundation.exp(-0.5 * x * x) * 0.39894228)
            })
        }
    }

    /// GELU, tanh approximation (GPT-2's "gelu_new" / "gelu_pytorch_tanh").
    public func geluTanh() -> Tensor {
        let c: Float = 0.7978845608  // sqrt(2 / pi)
        let out = mapUnary { x in 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) }
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.zipMap(g, self) { g, x in
                let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
                return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))
            })
        }
    }

    /// SiLU (swish): x * sigmoid(x).
    public func silu() -> Tensor {
        let out = mapUnary { $0 / (1 + Foundation.exp(-$0)) }
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.zipMap(g, self) { g, x in
                let s = 1 / (1 + Foundation.exp(-x))
                return g * s * (1 + x * (1 - s))
            })
        }
    }

    public func relu() -> Tensor {
        let out = mapUnary { Swift.max($0, 0) }
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.zipMap(g, self) { $1 > 0 ? $0 : 0 })
        }
    }

    public func sigmoid() -> Tensor {
        let out = mapUnary { 1 / (1 + Foundation.exp(-$0)) }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor.zipMap(g, y) { $0 * $1 * (1 - $1) })
        }
    }

    /// Runs `body(src, dst, n)` for each row of the last axis of dense `x` into dense `out`.
    static func forEachLastAxisRow(_ x: Tensor, _ out: Tensor, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
        let n = x.rank == 0 ? 1 : x.shape[x.rank - 1]
        let rows = n == 0 ? 0 : x.count / n
        let px = x.data, po = out.data
        Threads.parallelFor(rows, costPerItem: n * 8) { r in
            for row in r { body(px + row * n, po + row * n, n) }
        }
    }

    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        let x = contiguousData()
        let out = Tensor(zeros: shape)
        Tensor.forEachLastAxisRow(x, out) { src, dst, n in Tensor.softmaxRow(src, dst, n) }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in
            // dx = y * (g - sum(g * y))
            let gx = Tensor(zeros: y.shape)
            let gc = g.contiguousData()
            Tensor.forEachLastAxisRow(y, gx) { py, dst, n in
                let row = py - y.data
                let pg = gc.data + row
                var dot: Float = 0
                for i in 0..<n { dot += pg[i] * py[i] }
                for i in 0..<n { dst[i] = py[i] * (pg[i] - dot) }
            }
            receiveGrad(gx, owned: true)
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Tensor {
        let x = contiguousData()
        let out = Tensor(zeros: shape)
        Tensor.forEachLastAxisRow(x, out) { src, dst, n in Tensor.logSoftmaxRow(src, dst, n) }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in
            // dx = g - softmax * sum(g)
            let gx = Tensor(zeros: y.shape)
            let gc = g.contiguousData()
            Tensor.forEachLastAxisRow(y, gx) { py, dst, n in
                let pg = gc.data + (py - y.data)
                var s: Float = 0
                for i in 0..<n { s += pg[i] }
                for i in 0..<n { dst[i] = pg[i] - Foundation.exp(py[i]) * s }
            }
            receiveGrad(gx, owned: true)
        }
    }

    /// dst = log softmax(src) = src - logsumexp(src) for one row of n values.
    @inline(__always)
    static func logSoftmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        var m = -Float.infinity
        for i in 0..<n { m = Swift.max(m, src[i]) }
        var s: Float = 0
        for i in 0..<n { s += Foundation.exp(src[i] - m) }
        let lse = m + Foundation.log(s)
        for i in 0..<n { dst[i] = src[i] - lse }
    }

    /// dst = softmax(src) for one row of n values (max subtracted first).
    @inline(__always)
    /// A fully masked row (all -inf) gets no weight anywhere. Vectorised exp in CKernels.
    static func softmaxRow(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        if UnsafePointer(dst) != src { dst.update(from: src, count: n) }
        ck_softmax_f32(dst, n)
    }
}
