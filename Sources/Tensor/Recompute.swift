// Activation checkpointing (Chen et al. 2016, "gradient checkpointing"): a block's forward runs
// without recording, keeping only its input; backward runs the block again with recording on and
// back-propagates through that fresh graph. Memory of a deep model drops from every intermediate
// of every block to the block inputs plus one block's intermediates, for one more forward pass.

extension Tensor {
    /// `body(x)` whose intermediates are recomputed in backward. `parameters`: the leaves inside
    /// the block that may need gradients (they accumulate `.grad` during the recomputation).
    /// `body` must compute the same thing both times (reseed any dropout inside it from state
    /// captured by the closure).
    public static func recomputed(_ x: Tensor, parameters: [Tensor], _ body: @escaping (Tensor) throws -> Tensor) throws -> Tensor {
        let trainable = parameters.filter(\.requiresGrad)
        guard GradMode.isEnabled, x.requiresGrad || !trainable.isEmpty else { return try body(x) }
        let out = try noGrad { try body(x) }.detached()
        return record(out, inputs: [x] + trainable) { g in
            let xi = x.detached()
            xi.requiresGrad = x.requiresGrad
            // The forward above succeeded on the same input, so the replay does too.
            let replay = GradMode.$isEnabled.withValue(true) { try? body(xi) }
            guard let y = replay else { return }
            GradSink.$current.withValue(nil) { y.backward(gradient: g) }
            if let gx = xi.grad { x.receiveGrad(gx, owned: true) }
        }
    }
}
