// Shape ops. reshape/transpose/permute/slice return views sharing storage when they can;
// `contiguous()` is the explicit (recorded) copy into a dense layout.

extension Tensor {
    /// A view with a new shape of the same element count (one dim may be -1). Copies (recorded)
    /// when self is not contiguous.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        var shape2 = newShape
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let i = newShape.firstIndex(of: -1) {
            guard newShape.filter({ $0 == -1 }).count == 1, known > 0, count % known == 0 else {
                throw TensorError.shapeMismatch("reshape: cannot reshape \(shape) to \(newShape)")
            }
            shape2[i] = count / known
        }
        guard shape2.allSatisfy({ $0 >= 0 }), Tensor.elementCount(shape2) == count else {
            throw TensorError.shapeMismatch("reshape: cannot reshape \(shape) to \(newShape)")
        }
        let src = isContiguous ? self : contiguous()
        let out = Tensor(storage: src.storage, shape: shape2, offset: src.offset)
        let inShape = shape
        return Tensor.record(out, inputs: [src]) { g in
            src.receiveGrad(Tensor(storage: g.storage, shape: inShape, offset: g.offset))
        }
    }

    /// A dense row-major copy (recorded); self when already dense.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = denseCopy()
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(g) }
    }

    /// A view with dims reordered: result dim i is self's dim `dims[i]`.
    public func permute(_ dims: [Int]) throws -> Tensor {
        guard dims.count == rank, Set(dims).count == rank, dims.allSatisfy({ $0 >= 0 && $0 < rank }) else {
            throw TensorError.invalidArgument("permute: \(dims) is not a permutation of the dims of \(shape)")
        }
        let out = Tensor(storage: storage, shape: dims.map { shape[$0] }, strides: dims.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return Tensor.record(out, inputs: [self]) { [self] g in
            receiveGrad(Tensor(storage: g.storage, shape: inverse.map { g.shape[$0] }, strides: inverse.map { g.strides[$0] }, offset: g.offset))
        }
    }

    /// A view with two dims swapped.
    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        let i = try axisIndex(a, op: "transpose"), j = try axisIndex(b, op: "transpose")
        var dims = Array(0..<rank)
        dims.swapAt(i, j)
        return try permute(dims)
    }

    /// A view of `range` along `axis`.
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        let ax = try axisIndex(axis, op: "slice")
        guard range.lowerBound >= 0, range.upperBound <= shape[ax] else {
            throw TensorError.invalidArgument("slice: \(range) out of bounds for dim \(ax) of \(shape)")
        }
        var outShape = shape
        outShape[ax] = range.count
        let out = Tensor(storage: storage, shape: outShape, strides: strides, offset: offset + range.lowerBound * strides[ax])
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            let gx = Tensor(zeros: inShape)
            let window = Tensor(storage: gx.storage, shape: outShape, strides: gx.strides, offset: range.lowerBound * gx.strides[ax])
            window.assignNoGrad(g)
            receiveGrad(gx)
        }
    }

    /// Splits along `axis` into pieces of the given sizes (views).
    public func split(_ sizes: [Int], axis: Int) throws -> [Tensor] {
        let ax = try axisIndex(axis, op: "split")
        guard sizes.reduce(0, +) == shape[ax], sizes.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument("split: sizes \(sizes) do not add up to dim \(ax) of \(shape)")
        }
        var start = 0
        return try sizes.map { n in
            defer { start += n }
            return try slice(axis: ax, start..<(start + n))
        }
    }

    /// Joins tensors along `axis`; all other dims must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first else { throw TensorError.invalidArgument("concat: no tensors") }
        let ax = try first.axisIndex(axis, op: "concat")
        for t in tensors {
            var a = t.shape, b = first.shape
            guard a.count == b.count else { throw TensorError.shapeMismatch("concat: \(t.shape) vs \(first.shape)") }
            a[ax] = 0; b[ax] = 0
            guard a == b else { throw TensorError.shapeMismatch("concat: \(t.shape) vs \(first.shape) along axis \(ax)") }
        }
        var outShape = first.shape
        outShape[ax] = tensors.reduce(0) { $0 + $1.shape[ax] }
        let out = Tensor(zeros: outShape)
        var starts: [Int] = []
        var start = 0
        for t in tensors {
            starts.append(start)
            var s = outShape; s[ax] = t.shape[ax]
            Tensor(storage: out.storage, shape: s, strides: out.strides, offset: start * out.strides[ax]).assignNoGrad(t)
            start += t.shape[ax]
        }
        return record(out, inputs: tensors) { g in
            for (t, s) in zip(tensors, starts) where t.requiresGrad {
                var sh = outShape; sh[ax] = t.shape[ax]
                t.receiveGrad(Tensor(storage: g.storage, shape: sh, strides: g.strides, offset: g.offset + s * g.strides[ax]))
            }
        }
    }

    /// Inserts a dim of size 1 at `axis` (a view).
    public func unsqueeze(_ axis: Int) throws -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        guard ax >= 0 && ax <= rank else { throw TensorError.invalidArgument("unsqueeze: axis \(axis) for shape \(shape)") }
        var s = shape; s.insert(1, at: ax)
        return try contiguousIfNeeded().reshape(s)
    }

    private func contiguousIfNeeded() -> Tensor { isContiguous ? self : contiguous() }

    /// Copies `src` (same shape, any layout) into this view's elements. No autograd.
    func assignNoGrad(_ src: Tensor) {
        storage.markModified()
        let s = src.contiguousData()
        var k = 0
        let inner = rank == 0 ? 1 : strides[rank - 1]
        Tensor.forEachRow(shape: shape, strides: [strides], offsets: [offset]) { offs, n in
            let dst = storage.base + offs[0]
            for i in 0..<n { dst[i * inner] = s.data[k + i] }
            k += n
        }
    }
}
