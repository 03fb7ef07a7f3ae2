// Reductions over one axis (viewed as [outer, n, inner]) or over all elements.

extension Tensor {
    /// (outer, n, inner) sizes around `axis`, and the reduced shape with or without the kept axis.
    func reductionLayout(_ axis: Int, keepDim: Bool) -> (outer: Int, n: Int, inner: Int, outShape: [Int]) {
        let outer = shape[..<axis].reduce(1, *), n = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        if keepDim { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        return (outer, n, inner, outShape)
    }

    /// Sum over `axis`.
    public func sum(axis: Int, keepDim: Bool = false) throws -> Tensor {
        let ax = try axisIndex(axis, op: "sum")
        guard rank > 0 else { return sum() }
        let (outer, n, inner, outShape) = reductionLayout(ax, keepDim: keepDim)
        let x = contiguousData()
        let out = Tensor(zeros: outShape)
        let px = x.data, po = out.data
        Threads.parallelFor(outer, costPerItem: n * inner) { r in
            for o in r {
                for j in 0..<n {
                    let row = px + (o * n + j) * inner, dst = po + o * inner
                    for i in 0..<inner { dst[i] += row[i] }
                }
            }
        }
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            // Broadcast g back along the reduced axis.
            var kept = inShape; kept[ax] = 1
            let gv = Tensor(storage: g.storage, shape: kept, offset: g.offset).expanded(to: inShape)
            receiveGrad(gv)
        }
    }

    /// Mean over `axis`.
    public func mean(axis: Int, keepDim: Bool = false) throws -> Tensor {
        let ax = try axisIndex(axis, op: "mean")
        guard rank > 0 else { return self }
        return try sum(axis: ax, keepDim: keepDim) * (1 / Float(shape[ax]))
    }

    /// Maximum over `axis`; the gradient goes to the first maximal element.
    public func max(axis: Int, keepDim: Bool = false) throws -> Tensor {
        let ax = try axisIndex(axis, op: "max")
        guard rank > 0, shape[ax] > 0 else { throw TensorError.invalidArgument("max: empty axis in shape \(shape)") }
        let (outer, n, inner, outShape) = reductionLayout(ax, keepDim: keepDim)
        let x = contiguousData()
        let out = Tensor(repeating: -.infinity, shape: outShape)
        var argmax = [Int](repeating: 0, count: outer * inner)
        let px = x.data, po = out.data
        for o in 0..<outer {
            for j in 0..<n {
                for i in 0..<inner where px[(o * n + j) * inner + i] > po[o * inner + i] {
                    po[o * inner + i] = px[(o * n + j) * inner + i]
                    argmax[o * inner + i] = j
                }
            }
        }
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            let gx = Tensor(zeros: inShape)
            for o in 0..<outer {
                for i in 0..<inner { gx.data[(o * n + argmax[o * inner + i]) * inner + i] = g.data[o * inner + i] }
            }
            receiveGrad(gx)
        }
    }

    /// Sum of all elements (0-d result).
    public func sum() -> Tensor {
        let x = contiguousData()
        var acc: Double = 0
        for i in 0..<count { acc += Double(x.data[i]) }
        let out = Tensor(scalar: Float(acc))
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor(repeating: g.data[0], shape: inShape))
        }
    }

    /// Maximum of all elements (0-d result).
    public func max() throws -> Tensor {
        try reshape([count]).max(axis: 0)
    }

    /// Mean of all elements (0-d result).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }
}
