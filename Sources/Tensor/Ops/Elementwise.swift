import Foundation

// Elementwise arithmetic with numpy broadcasting; backward sums the gradient over broadcast dims.

enum BinaryKind { case add, sub, mul, div }

extension Tensor {
    /// out = a (op) b over the broadcast shape. No autograd.
    static func binaryKernel(_ a: Tensor, _ b: Tensor, _ kind: BinaryKind, shape outShape: [Int]) -> Tensor {
        let out = Tensor(zeros: outShape)
        let av = a.expanded(to: outShape), bv = b.expanded(to: outShape)
        let po = out.data
        if av.isContiguous && bv.isContiguous {
            let pa = av.data, pb = bv.data
            Threads.parallelFor(out.count) { r in
                binaryLoop(kind, pa + r.lowerBound, 1, pb + r.lowerBound, 1, po + r.lowerBound, r.count)
            }
            return out
        }
        let r = outShape.count
        let sa = r == 0 ? 1 : av.strides[r - 1], sb = r == 0 ? 1 : bv.strides[r - 1]
        var k = 0
        forEachRow(shape: outShape, strides: [av.strides, bv.strides], offsets: [av.offset, bv.offset]) { offs, n in
            binaryLoop(kind, a.storage.base + offs[0], sa, b.storage.base + offs[1], sb, po + k, n)
            k += n
        }
        return out
    }

    @inline(__always)
    static func binaryLoop(_ kind: BinaryKind, _ pa: UnsafeMutablePointer<Float>, _ sa: Int,
                           _ pb: UnsafeMutablePointer<Float>, _ sb: Int, _ po: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .add: for i in 0..<n { po[i] = pa[i * sa] + pb[i * sb] }
        case .sub: for i in 0..<n { po[i] = pa[i * sa] - pb[i * sb] }
        case .mul: for i in 0..<n { po[i] = pa[i * sa] * pb[i * sb] }
        case .div: for i in 0..<n { po[i] = pa[i * sa] / pb[i * sb] }
        }
    }

    static func binary(_ a: Tensor, _ b: Tensor, _ kind: BinaryKind, op: String) throws -> Tensor {
        let shape = try broadcastShape(a.shape, b.shape, op: op)
        let out = binaryKernel(a, b, kind, shape: shape)
        let y = out.detached()
        return record(out, inputs: [a, b]) { g in
            switch kind {
            case .add:
                a.receiveGrad(sumToShape(g, a.shape))
                b.receiveGrad(sumToShape(g, b.shape))
            case .sub:
                a.receiveGrad(sumToShape(g, a.shape))
                if b.requiresGrad { b.receiveGrad(sumToShape(g, b.shape).scaledNoGrad(-1)) }
            case .mul:
                if a.requiresGrad { a.receiveGrad(sumToShape(binaryKernel(g, b, .mul, shape: shape), a.shape)) }
                if b.requiresGrad { b.receiveGrad(sumToShape(binaryKernel(g, a, .mul, shape: shape), b.shape)) }
            case .div:
                if a.requiresGrad { a.receiveGrad(sumToShape(binaryKernel(g, b, .div, shape: shape), a.shape)) }
                if b.requiresGrad {
                    // d(a/b)/db = -(a/b)/b
                    let t = binaryKernel(binaryKernel(g, y, .mul, shape: shape), b, .div, shape: shape)
                    b.receiveGrad(sumToShape(t, b.shape).scaledNoGrad(-1))
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .add, op: "add") }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .sub, op: "sub") }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .mul, op: "mul") }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(a, b, .div, op: "div") }

    // Scalar forms.
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1, shift: 0) }

    /// scale * self + shift.
    public func affine(scale: Float, shift: Float) -> Tensor {
        let out = mapUnary { $0 * scale + shift }
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(g.scaledNoGrad(scale)) }
    }

    /// self * s as a new dense tensor, no autograd (used in backward closures).
    func scaledNoGrad(_ s: Float) -> Tensor { mapUnary { $0 * s } }

    /// Applies `f` to every element into a new dense tensor (parallel for large tensors). No autograd.
    @inline(__always)
    func mapUnary(_ f: (Float) -> Float) -> Tensor {
        let x = contiguousData()
        let out = Tensor(zeros: shape)
        let px = x.data, po = out.data
        withoutActuallyEscaping(f) { f in
            Threads.parallelFor(count, costPerItem: 4) { r in
                for i in r { po[i] = f(px[i]) }
            }
        }
        return out
    }

    /// out[i] = f(a[i], b[i]) for two dense tensors of equal shape. No autograd.
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
        let x = a.contiguousData(), y = b.contiguousData()
        let out = Tensor(zeros: a.shape)
        let px = x.data, py = y.data, po = out.data
        withoutActuallyEscaping(f) { f in
            Threads.parallelFor(a.count, costPerItem: 4) { r in
                for i in r { po[i] = f(px[i], py[i]) }
            }
        }
        return out
    }

    public func exp() -> Tensor {
        let out = mapUnary { Foundation.exp($0) }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, y) { $0 * $1 }) }
    }

    public func log() -> Tensor {
        let out = mapUnary { Foundation.log($0) }
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, self) { $0 / $1 }) }
    }

    public func sqrt() -> Tensor {
        let out = mapUnary { $0.squareRoot() }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, y) { 0.5 * $0 / $1 }) }
    }

    /// Elementwise square.
    public func square() -> Tensor {
        let out = mapUnary { $0 * $0 }
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, self) { 2 * $0 * $1 }) }
    }

    public func tanh() -> Tensor {
        let out = mapUnary { Foundation.tanh($0) }
        let y = out.detached()
        return Tensor.record(out, inputs: [self]) { [self] g in receiveGrad(Tensor.zipMap(g, y) { $0 * (1 - $1 * $1) }) }
    }
}
