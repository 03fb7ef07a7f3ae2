// Embedding lookup: rows of a table gathered by integer ids; backward scatter-adds into the table.

extension Tensor {
    /// out[..., :] = weight[ids[...], :]. weight: [V, C]; ids fill `shape` (row-major); result: shape + [C].
    public static func embedding(_ weight: Tensor, ids: [Int], shape: [Int]) throws -> Tensor {
        guard weight.rank == 2 else { throw TensorError.shapeMismatch("embedding: table must be 2-D, got \(weight.shape)") }
        guard ids.count == elementCount(shape) else {
            throw TensorError.shapeMismatch("embedding: \(ids.count) ids for shape \(shape)")
        }
        let vocab = weight.shape[0], c = weight.shape[1]
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw TensorError.invalidArgument("embedding: id \(bad) out of range 0..<\(vocab)\(weight.name.map { " for \($0)" } ?? "")")
        }
        let w = weight.contiguousData()
        let out = Tensor(zeros: shape + [c])
        for (row, id) in ids.enumerated() {
            (out.data + row * c).update(from: w.data + id * c, count: c)
        }
        return record(out, inputs: [weight]) { g in
            let gw = Tensor(zeros: [vocab, c])
            for (row, id) in ids.enumerated() {
                let dst = gw.data + id * c, src = g.data + row * c
                for i in 0..<c { dst[i] += src[i] }
            }
            weight.receiveGrad(gw, owned: true)
        }
    }
}

extension Tensor {
    /// out[r] = self[r, indices[r]] over the last axis: self [..., V], one index per row -> [...].
    /// (Log-probabilities of chosen tokens for DPO/PPO.) Backward scatters into the picked entries.
    public func pick(_ indices: [Int]) throws -> Tensor {
        guard rank >= 1, let v = shape.last else { throw TensorError.shapeMismatch("pick: input \(shape)") }
        let rows = v == 0 ? 0 : count / v
        guard indices.count == rows else { throw TensorError.shapeMismatch("pick: \(indices.count) indices for \(shape)") }
        if let bad = indices.first(where: { $0 < 0 || $0 >= v }) {
            throw TensorError.invalidArgument("pick: index \(bad) out of range 0..<\(v)")
        }
        let x = contiguousData()
        let out = Tensor(zeros: Array(shape.dropLast()))
        for (r, i) in indices.enumerated() { out.data[r] = x.data[r * v + i] }
        let inShape = shape
        return Tensor.record(out, inputs: [self]) { [self] g in
            let gx = Tensor(zeros: inShape)
            for (r, i) in indices.enumerated() { gx.data[r * v + i] = g.data[r] }
            receiveGrad(gx, owned: true)
        }
    }
}
