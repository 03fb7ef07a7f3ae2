// Conventions for every op in Ops/:
// - An op whose shapes or arguments can be wrong (two operands, an axis, indices) is `throws` and
//   throws `TensorError` naming the op and the shapes; it never traps on caller-controlled input.
//   Unary elementwise ops cannot mismatch and do not throw.
// - Inputs may be any strided view; outputs are new dense row-major tensors (views for the shape
//   ops in Shape.swift).
// - Each op's backward sits right beside its forward and is recorded with `Tensor.record`.
//   Backward closures capture inputs and, when they need the output's values, a `detached()` view
//   of it (capturing the output itself would make a reference cycle output -> closure -> output).
// - Backward closures run with gradients disabled and get a dense gradient of the output's shape.

extension Tensor {
    /// Normalises a possibly negative axis; throws naming `op` when it is out of range.
    func axisIndex(_ axis: Int, op: String) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0 && a < Swift.max(rank, 1) else {
            throw TensorError.invalidArgument("\(op): axis \(axis) out of range for shape \(shape)")
        }
        return a
    }

    /// The numpy broadcast of two shapes.
    static func broadcastShape(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let n = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw TensorError.shapeMismatch("\(op): shapes \(a) and \(b) do not broadcast")
            }
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// A view of self broadcast to `target` (stride 0 along broadcast dimensions). `target` must be
    /// a valid broadcast of self's shape.
    func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let lead = target.count - rank
        var st = [Int](repeating: 0, count: target.count)
        for i in 0..<rank where shape[i] != 1 || target[lead + i] == 1 {
            st[lead + i] = strides[i]
        }
        return Tensor(storage: storage, shape: target, strides: st, offset: offset)
    }

    /// Sums a gradient of shape `g.shape` down to `target` (reverse of broadcasting). No autograd.
    static func sumToShape(_ g: Tensor, _ target: [Int]) -> Tensor {
        if g.shape == target { return g }
        let out = Tensor(zeros: target)
        // View `out` broadcast to g's shape and accumulate each element of g into it.
        let outView = out.expanded(to: g.shape)
        let gc = g.contiguousData()
        var k = 0
        forEachRow(shape: g.shape, strides: [outView.strides]) { offs, n in
            let dst = out.storage.base + offs[0]
            let s = outView.strides[g.rank - 1]
            for i in 0..<n { dst[i * s] += gc.data[k + i] }
            k += n
        }
        return out
    }

    /// Calls `body(offsets, innerCount)` once per innermost row of `shape`, in row-major order, with
    /// the element offset of that row's first element in each of the given stride sets.
    static func forEachRow(shape: [Int], strides: [[Int]], offsets base: [Int]? = nil, _ body: ([Int], Int) -> Void) {
        let rank = shape.count
        let total = elementCount(shape)
        if total == 0 { return }
        let start = base ?? [Int](repeating: 0, count: strides.count)
        if rank == 0 { body(start, 1); return }
        let inner = shape[rank - 1]
        let rows = total / inner
        var index = [Int](repeating: 0, count: rank)
        var offs = start
        for _ in 0..<rows {
            body(offs, inner)
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                for s in 0..<strides.count { offs[s] += strides[s][d] }
                if index[d] < shape[d] { break }
                for s in 0..<strides.count { offs[s] -= strides[s][d] * shape[d] }
                index[d] = 0
                d -= 1
            }
        }
    }
}
