import Foundation

// RMSNorm and LayerNorm over the last axis, each fused: one pass forward (saving per-row
// statistics), one pass backward.

extension Tensor {
    /// y = x / sqrt(mean(x^2) + eps) * weight. x: [..., C], weight: [C].
    public func rmsNorm(weight: Tensor, eps: Float) throws -> Tensor {
        let c = shape.last ?? 0
        guard weight.shape == [c] else { throw TensorError.shapeMismatch("rmsNorm: weight \(weight.shape) for input \(shape)") }
        let x = contiguousData(), w = weight.contiguousData()
        let out = Tensor(zeros: shape)
        let rows = c == 0 ? 0 : count / c
        var rstd = [Float](repeating: 0, count: rows)
        let px = x.data, pw = w.data, po = out.data
        rstd.withUnsafeMutableBufferPointer { rs in
            let prs = rs.baseAddress!
            Threads.parallelFor(rows, costPerItem: c * 3) { r in
                for row in r {
                    let xr = px + row * c, yr = po + row * c
                    var ss: Float = 0
                    for i in 0..<c { ss += xr[i] * xr[i] }
                    let s = 1 / (ss / Float(c) + eps).squareRoot()
                    prs[row] = s
                    for i in 0..<c { yr[i] = xr[i] * s * pw[i] }
                }
            }
        }
        return Tensor.record(out, inputs: [self, weight]) { [self] g in
            let gc = g.contiguousData()
            let gx = Tensor(zeros: x.shape), gw = Tensor(zeros: [c])
            for row in 0..<rows {
                let xr = px + row * c, gr = gc.data + row * c, dx = gx.data + row * c
                let s = rstd[row]
                // xhat = x s; dL/dxhat = g w; dx = s (dxhat - xhat mean(dxhat * xhat))
                var dot: Float = 0
                for i in 0..<c { dot += gr[i] * pw[i] * xr[i] * s; gw.data[i] += gr[i] * xr[i] * s }
                dot /= Float(c)
                for i in 0..<c { dx[i] = s * (gr[i] * pw[i] - xr[i] * s * dot) }
            }
            receiveGrad(gx, owned: true)
            weight.receiveGrad(gw, owned: true)
        }
    }

    /// y = (x - mean) / sqrt(var + eps) * weight + bias over the last axis. x: [..., C].
    public func layerNorm(weight: Tensor, bias: Tensor, eps: Float) throws -> Tensor {
        let c = shape.last ?? 0
        guard weight.shape == [c], bias.shape == [c] else {
            throw TensorError.shapeMismatch("layerNorm: weight \(weight.shape), bias \(bias.shape) for input \(shape)")
        }
        let x = contiguousData(), w = weight.contiguousData(), b = bias.contiguousData()
        let out = Tensor(zeros: shape)
        let rows = c == 0 ? 0 : count / c
        var stats = [Float](repeating: 0, count: rows * 2)  // mean, rstd per row
        let px = x.data, pw = w.data, pb = b.data, po = out.data
        stats.withUnsafeMutableBufferPointer { st in
            let ps = st.baseAddress!
            Threads.parallelFor(rows, costPerItem: c * 4) { r in
                for row in r {
                    let xr = px + row * c, yr = po + row * c
                    var m: Float = 0
                    for i in 0..<c { m += xr[i] }
                    m /= Float(c)
                    var v: Float = 0
                    for i in 0..<c { let d = xr[i] - m; v += d * d }
                    let s = 1 / (v / Float(c) + eps).squareRoot()
                    ps[2 * row] = m; ps[2 * row + 1] = s
                    for i in 0..<c { yr[i] = (xr[i] - m) * s * pw[i] + pb[i] }
                }
            }
        }
        return Tensor.record(out, inputs: [self, weight, bias]) { [self] g in
            let gc = g.contiguousData()
            let gx = Tensor(zeros: x.shape), gw = Tensor(zeros: [c]), gb = Tensor(zeros: [c])
            for row in 0..<rows {
                let xr = px + row * c, gr = gc.data + row * c, dx = gx.data + row * c
                let m = stats[2 * row], s = stats[2 * row + 1]
                // dxhat = g w; dx = s (dxhat - mean(dxhat) - xhat mean(dxhat xhat))
                var sumD: Float = 0, sumDX: Float = 0
                for i in 0..<c {
                    let xhat = (xr[i] - m) * s, d = gr[i] * pw[i]
                    sumD += d; sumDX += d * xhat
                    gw.data[i] += gr[i] * xhat; gb.data[i] += gr[i]
                }
                sumD /= Float(c); sumDX /= Float(c)
                for i in 0..<c {
                    let xhat = (xr[i] - m) * s
                    dx[i] = s * (gr[i] * pw[i] - sumD - xhat * sumDX)
                }
            }
            receiveGrad(gx, owned: true)
            weight.receiveGrad(gw, owned: true)
            bias.receiveGrad(gb, owned: true)
        }
    }
}
