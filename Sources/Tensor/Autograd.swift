import CBLAS

// Reverse-mode automatic differentiation over the graph that ops record on their outputs.
//
// An op calls `Tensor.record(output, inputs:, backward:)`: when gradients are enabled and any input
// requires a gradient, the output remembers its inputs and a closure that maps the output's gradient
// to contributions for the inputs (each input accumulates through `accumulateGrad`). `backward()`
// orders the graph topologically and runs each closure once, outputs before inputs.

public enum GradMode {
    /// False inside `noGrad { }`: ops record nothing and allocate no gradient buffers.
    @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording autograd (inference).
public func noGrad<T>(_ body: () throws -> T) rethrows -> T {
    try GradMode.$isEnabled.withValue(false) { try body() }
}

/// Runs async `body` without recording autograd (inference).
public func noGrad<T>(_ body: () async throws -> T) async rethrows -> T {
    try await GradMode.$isEnabled.withValue(false) { try await body() }
}

extension Tensor {
    /// Records `output` as computed from `inputs`; returns `output`. A no-op when no gradient is needed.
    @discardableResult
    public static func record(_ output: Tensor, inputs: [Tensor], backward: @escaping (_ gradOutput: Tensor) -> Void) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return output }
        output.requiresGrad = true
        output.inputs = inputs
        output.backwardFn = backward
        return output
    }

    /// Adds `g` (same shape as self, any layout) into `self.grad`, allocating it on first use.
    /// `owned`: g is a fresh dense buffer nobody else references, so it may become the gradient itself.
    public func accumulateGrad(_ g: Tensor, owned: Bool = false) {
        guard requiresGrad else { return }
        if let existing = grad {
            existing.addNoGrad(g.contiguousData())
        } else {
            grad = owned && g.isContiguous ? g : g.denseCopy()
        }
    }

    /// Back-propagates from this tensor. Without `gradient`, the tensor must hold one element and
    /// its gradient is taken as 1. Gradients accumulate into leaves across calls until `zeroGrad()`.
    public func backward(gradient: Tensor? = nil) {
        let seed = gradient ?? Tensor(repeating: 1, shape: shape)
        // Topological order by iterative depth-first search (deep graphs must not overflow the stack).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            let id = ObjectIdentifier(node)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((node, true))
            for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
        // Intermediate gradients live in a side table so leaves alone keep `.grad` after the pass.
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        for node in order.reversed() {
            let id = ObjectIdentifier(node)
            guard let g = grads.removeValue(forKey: id) else { continue }
            guard let fn = node.backwardFn else {
                node.accumulateGrad(g)  // a leaf
                continue
            }
            // Route each input's contribution into the side table (or the leaf's .grad).
            GradSink.$current.withValue(GradSink { input, contribution, owned in
                let key = ObjectIdentifier(input)
                if input.backwardFn == nil {
                    input.accumulateGrad(contribution, owned: owned)
                } else if let prior = grads[key] {
                    grads[key] = prior.addedInPlaceNoGrad(contribution)
                } else {
                    // The table's buffer must be private: later contributions add into it.
                    grads[key] = owned && contribution.isContiguous ? contribution : contribution.denseCopy()
                }
            }) {
                GradMode.$isEnabled.withValue(false) { fn(g) }
            }
        }
    }

    /// Sends `contribution` (the gradient w.r.t. self) back during `backward()`. Ops call this
    /// from their backward closures on each input that requires a gradient. Pass `owned: true` only
    /// for a fresh dense tensor that the closure hands over and never touches again (saves a copy).
    public func receiveGrad(_ contribution: Tensor, owned: Bool = false) {
        guard requiresGrad else { return }
        if let sink = GradSink.current {
            sink.deliver(self, contribution, owned)
        } else {
            accumulateGrad(contribution, owned: owned)
        }
    }

    /// Clears the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Cuts this tensor from the graph that made it (same storage, no gradient history).
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }

    /// self += other elementwise; self must be an owned dense buffer (from `denseCopy`).
    func addedInPlaceNoGrad(_ other: Tensor) -> Tensor {
        addNoGrad(other.contiguousData())
        return self
    }

    /// self += other (both dense, same count), with BLAS saxpy.
    func addNoGrad(_ other: Tensor) {
        _ = Threads.blasConfigured
        cblas_saxpy(Int32(count), 1, other.data, 1, data, 1)
    }

    /// A new dense tensor with a copy of the values and no autograd history.
    public func denseCopy() -> Tensor {
        let out = Tensor(zeros: shape)
        copyStrided(into: out.data)
        return out
    }
}

/// Where backward closures deliver input gradients during one `backward()` pass.
final class GradSink: @unchecked Sendable {
    @TaskLocal static var current: GradSink?
    let deliver: (Tensor, Tensor, Bool) -> Void
    init(_ deliver: @escaping (Tensor, Tensor, Bool) -> Void) { self.deliver = deliver }
}
