// The one core abstraction: an n-dimensional Float32 array that remembers how it was made.
//
// Storage is a shared, reference-counted buffer; a Tensor is a view on it (shape, strides, offset),
// so reshape/transpose/slice of a contiguous tensor cost no copy. Every op that needs a dense
// row-major layout calls `contiguous()`, which copies only when the view is not already dense.
//
// Autograd: an op whose output needs a gradient records its inputs and a closure that, given the
// gradient of the output, accumulates gradients into the inputs. `backward()` walks that graph in
// reverse topological order (see Autograd.swift).

/// A Float32 buffer shared by tensors that view it. Either owned (allocated here) or borrowed from
/// an owner object that keeps the memory alive (a memory-mapped checkpoint, for example).
public final class TensorStorage: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>
    private let owner: AnyObject?
    /// Bumped by the tensor core's writes into existing values (optimizer steps, `Module.load`,
    /// LoRA merges, `assignNoGrad`), so that what is derived from the values (packed weights) can
    /// tell when it is stale. Code that writes parameters through `data` itself calls `markModified()`.
    public private(set) var version = 0

    public func markModified() { version &+= 1 }

    /// Allocates `count` zeroed floats.
    public init(count: Int) {
        self.count = count
        self.base = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        self.base.initialize(repeating: 0, count: max(count, 1))
        self.owner = nil
    }

    /// Wraps memory owned by `owner` (which must outlive every use and allow writes, e.g. a
    /// private copy-on-write mapping).
    public init(borrowing base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.count = count
        self.base = base
        self.owner = owner
    }

    deinit {
        if owner == nil { base.deallocate() }
    }
}

public final class Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    /// Whether gradients flow to this tensor. Set on parameters; ops propagate it to outputs.
    public var requiresGrad: Bool
    /// The accumulated gradient (same shape, contiguous), allocated on first accumulation.
    public var grad: Tensor?
    /// Checkpoint name of a parameter (e.g. `model.layers.3.self_attn.q_proj.weight`), for errors.
    public var name: String?

    // Autograd node: the tensors this one was computed from and how to send a gradient back to them.
    var inputs: [Tensor] = []
    var backwardFn: ((_ gradOutput: Tensor) -> Void)?

    public init(storage: TensorStorage, shape: [Int], strides: [Int]? = nil, offset: Int = 0, requiresGrad: Bool = false) {
        self.storage = storage
        self.shape = shape
        self.strides = strides ?? Tensor.contiguousStrides(shape)
        self.offset = offset
        self.requiresGrad = requiresGrad
    }

    /// A zero-filled tensor.
    public convenience init(zeros shape: [Int], requiresGrad: Bool = false) {
        self.init(storage: TensorStorage(count: Tensor.elementCount(shape)), shape: shape, requiresGrad: requiresGrad)
    }

    /// A tensor filled with `value`.
    public convenience init(repeating value: Float, shape: [Int], requiresGrad: Bool = false) {
        self.init(zeros: shape, requiresGrad: requiresGrad)
        storage.base.update(repeating: value, count: count)
    }

    /// A tensor with the given row-major values. Throws if `data.count` does not match the shape.
    public convenience init(_ data: [Float], shape: [Int], requiresGrad: Bool = false) throws {
        let n = Tensor.elementCount(shape)
        guard data.count == n else {
            throw TensorError.shapeMismatch("\(data.count) values do not fill shape \(shape) (\(n) elements)")
        }
        self.init(zeros: shape, requiresGrad: requiresGrad)
        data.withUnsafeBufferPointer { src in
            if let p = src.baseAddress { storage.base.update(from: p, count: n) }
        }
    }

    /// A 0-d tensor holding one value.
    public convenience init(scalar: Float, requiresGrad: Bool = false) {
        self.init(repeating: scalar, shape: [], requiresGrad: requiresGrad)
    }

    public var rank: Int { shape.count }
    public var count: Int { Tensor.elementCount(shape) }

    /// True when the elements are laid out densely in row-major order starting at `offset`.
    public var isContiguous: Bool { strides == Tensor.contiguousStrides(shape) }

    /// Pointer to element 0 of a contiguous tensor. Callers must check `isContiguous` or call `contiguous()` first.
    /// Writing a parameter's values through it: call `storage.markModified()` after (see TensorStorage.version).
    public var data: UnsafeMutablePointer<Float> { storage.base + offset }

    /// The values in row-major order (copies).
    public func toArray() -> [Float] {
        let c = contiguousData()
        return Array(UnsafeBufferPointer(start: c.data, count: c.count))
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        let c = contiguousData()
        return c.count == 1 ? c.data.pointee : .nan
    }

    /// A dense copy of the values without recording autograd (used by ops internally).
    func contiguousData() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(zeros: shape)
        copyStrided(into: out.data)
        return out
    }

    /// Copies this view's elements in row-major order into `dst`.
    func copyStrided(into dst: UnsafeMutablePointer<Float>) {
        let n = count
        if n == 0 { return }
        if rank == 0 { dst.pointee = storage.base[offset]; return }
        var index = [Int](repeating: 0, count: rank)
        let src = storage.base
        let last = rank - 1
        let innerCount = shape[last], innerStride = strides[last]
        var written = 0
        while written < n {
            var srcOffset = offset
            for d in 0..<last { srcOffset += index[d] * strides[d] }
            for i in 0..<innerCount { dst[written + i] = src[srcOffset + i * innerStride] }
            written += innerCount
            // advance the outer index like an odometer
            var d = last - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < shape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    public static func elementCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = running
            running *= shape[d]
        }
        return strides
    }
}

public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(String)
    case invalidArgument(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .invalidArgument(let m): return "invalid argument: \(m)"
        case .checkpoint(let m): return "checkpoint error: \(m)"
        }
    }
}
