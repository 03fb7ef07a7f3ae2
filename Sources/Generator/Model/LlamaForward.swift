// The Llama forward pass (Touvron et al. 2023), for T new tokens at positions start ..< start+T
// whose keys/values are appended to the KV cache. One token (decode) is a chain of matvecs; a
// prompt (prefill) goes through the same code with matmuls over all its tokens at once.
//
//   x = embed(tokens)                                       [T, dim]
//   for each layer:
//     h = rmsnorm(x) · attention_norm                       [T, dim]
//     q = h Wqᵀ, k = h Wkᵀ, v = h Wvᵀ                       [T, heads·hd], [T, kvHeads·hd] ×2
//     q, k = rope(q, k, positions)                          k, v appended to the cache
//     a = softmax(q kᵀ / √hd + causal mask) v              [T, heads·hd]   (grouped-query)
//     x = x + a Woᵀ                                         [T, dim]
//     h = rmsnorm(x) · mlp_norm                             [T, dim]
//     x = x + (silu(h Wgateᵀ) ⊙ h Wupᵀ) Wdownᵀ              [T, dim]
//   logits = rmsnorm(x) · final_norm · Woutᵀ                [T or 1, vocab]

import Tensor

/// Which positions of a forward pass need logits.
enum LogitRows {
    case none, last, all
}

extension LlamaModel {
    /// Runs `tokens` through the model after the `state.filled` cached positions and appends
    /// their keys/values. Logits are left in `state.logits` ([1 or T, vocab]).
    /// With a `pool` and Q8_0/Q4_1 weights, one token goes through `decodeStep` instead (unless
    /// `state.captureLayers` asks for hidden states, which only this path records).
    func forward(_ tokens: [Int], state: InferenceState, logits wanted: LogitRows, threads: Int, pool: WorkerPool? = nil) throws {
        let c = config, t = tokens.count, start = state.filled
        guard t > 0 else { return }
        if t == 1, state.captureLayers.isEmpty, let pool, let matrices = decodeMatrices {
            try decodeStep(tokens[0], state: state, matrices: matrices, pool: pool, wantLogits: wanted != .none)
            return
        }
        guard start + t <= state.contextLength else {
            throw GeneratorError.contextOverflow(promptTokens: start + t, contextLength: state.contextLength)
        }
        state.reserve(tokens: t)
        let dim = c.dim, hd = c.headDim, qDim = c.heads * hd, kvDim = c.kvHeads * hd
        let x = state.x.pointer, xn = state.xn.pointer, q = state.q.pointer, attn = state.attn.pointer
        let gate = state.gate.pointer, up = state.up.pointer
        let pairs = c.rotaryDim / 2
        let shape = AttentionShape(heads: c.heads, kvHeads: c.kvHeads, headDim: hd)

        // x = embed(tokens)                                  [T, dim]
        for (i, token) in tokens.enumerated() { try embed(token, into: x + i * dim) }   // (a virtual token's vector too)
        if state.captureLayers.contains(0) { state.capture(x + (t - 1) * dim, layer: 0) }
        for i in 0..<t {
            rope.angles(position: start + i, cos: state.ropeCos.pointer + i * pairs, sin: state.ropeSin.pointer + i * pairs)
        }
        state.scores.ensure(shape.group * (start + t))  // decode scores a whole group at once (a prompt's heads use their own)

        for (l, layer) in weights.layers.enumerated() {
            let lora = adapter?.layers[l]
            let keys = state.keys + l * state.layerStride, values = state.values + l * state.layerStride
            let newKeys = keys + start * kvDim, newValues = values + start * kvDim  // [T, kvHeads·hd]

            // attention block
            rmsNormRows(x, weight: layer.attentionNorm.data, eps: c.rmsNormEps, rows: t, dim: dim, into: xn)
            layer.wq.apply(xn, n: t, into: q, threads: threads)
            lora?[.q]?.add(xn, n: t, into: q, threads: threads)
            layer.wk.apply(xn, n: t, into: newKeys, threads: threads)
            lora?[.k]?.add(xn, n: t, into: newKeys, threads: threads)
            layer.wv.apply(xn, n: t, into: newValues, threads: threads)
            lora?[.v]?.add(xn, n: t, into: newValues, threads: threads)
            for i in 0..<t {
                let cosines = state.ropeCos.pointer + i * pairs, sines = state.ropeSin.pointer + i * pairs
                applyRope(q + i * qDim, heads: c.heads, headDim: hd, layout: c.ropeLayout, pairs: pairs, cos: cosines, sin: sines)
                applyRope(newKeys + i * kvDim, heads: c.kvHeads, headDim: hd, layout: c.ropeLayout, pairs: pairs, cos: cosines, sin: sines)
            }
            causalAttention(q: q, keys: keys, values: values, tokens: t, start: start, shape: shape, threads: threads,
                            scores: state.scores.pointer, out: attn)
            layer.wo.apply(attn, n: t, into: xn, threads: threads)
            lora?[.o]?.add(attn, n: t, into: xn, threads: threads)
            addInPlace(x, xn, count: t * dim)

            // MLP block
            rmsNormRows(x, weight: layer.mlpNorm.data, eps: c.rmsNormEps, rows: t, dim: dim, into: xn)
            layer.wGate.apply(xn, n: t, into: gate, threads: threads)
            lora?[.gate]?.add(xn, n: t, into: gate, threads: threads)
            layer.wUp.apply(xn, n: t, into: up, threads: threads)
            lora?[.up]?.add(xn, n: t, into: up, threads: threads)
            Threads.parallelFor(t, costPerItem: 8 * c.hiddenDim, threads: threads) { rows in
                swiGLU(gate: gate + rows.lowerBound * c.hiddenDim, up: up + rows.lowerBound * c.hiddenDim, count: rows.count * c.hiddenDim)
            }
            layer.wDown.apply(gate, n: t, into: xn, threads: threads)
            lora?[.down]?.add(gate, n: t, into: xn, threads: threads)
            addInPlace(x, xn, count: t * dim)
            if l + 1 < c.layers, state.captureLayers.contains(l + 1) { state.capture(x + (t - 1) * dim, layer: l + 1) }
        }
        state.filled = start + t
        if state.captureLayers.contains(c.layers) {  // the last hidden state is reported after the final norm
            let normed = UnsafeMutablePointer<Float>.allocate(capacity: dim)
            defer { normed.deallocate() }
            rmsNormRows(x + (t - 1) * dim, weight: weights.finalNorm.data, eps: c.rmsNormEps, rows: 1, dim: dim, into: normed)
            state.capture(normed, layer: c.layers)
        }

        // logits = final_norm(x) Woutᵀ, for the rows asked for
        switch wanted {
        case .none: return
        case .last:
            let last = x + (t - 1) * dim
            if let pool, let matrices = decodeMatrices {
                outputLogits(last, state: state, matrices: matrices, pool: pool)
                return
            }
            rmsNormRows(last, weight: weights.finalNorm.data, eps: c.rmsNormEps, rows: 1, dim: dim, into: xn)
            state.logits.ensure(c.vocabSize)
            weights.output.apply(xn, n: 1, into: state.logits.pointer, threads: threads)
        case .all:
            rmsNormRows(x, weight: weights.finalNorm.data, eps: c.rmsNormEps, rows: t, dim: dim, into: xn)
            state.logits.ensure(t * c.vocabSize)
            weights.output.apply(xn, n: t, into: state.logits.pointer, threads: threads)
        }
    }
}

/// x += y
@inline(__always)
func addInPlace(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { x[i] += y[i] }
}
