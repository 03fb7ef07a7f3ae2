// One decode step (a single token) with the matrix products and the attention heads split between
// the threads of a WorkerPool, in five parallel sections per layer:
//   q | k | v      the rows of all three in one section
//   attention      query heads
//   o
//   gate | up      each thread then applies SwiGLU to its own rows
//   down
// and one for the output head. RMSNorm, RoPE and the residual adds stay on the calling thread
// (a few microseconds). Same maths as LlamaModel.forward, which prefill uses, LoRA adapter
// included: each chunk adds the low-rank update of the rows it multiplied (DecodeLowRank).

import CKernels

extension LlamaModel {
    func decodeStep(_ token: Int, state: InferenceState, matrices: DecodeMatrices, pool: WorkerPool, wantLogits: Bool) throws {
        let c = config, start = state.filled, length = start + 1
        guard token >= 0, token < c.vocabSize else {
            throw GeneratorError.invalidOptions("token id \(token) is outside the vocabulary (0 ..< \(c.vocabSize))")
        }
        guard length <= state.contextLength else {
            throw GeneratorError.contextOverflow(promptTokens: length, contextLength: state.contextLength)
        }
        state.reserve(tokens: 1)
        state.scores.ensure(c.heads * length)  // one row of probabilities per query head
        let rank = adapter?.maxRank ?? 0
        state.lowRank.ensure(3 * rank)  // A x of up to three projections of one section
        let h0 = state.lowRank.pointer, h1 = h0 + rank, h2 = h1 + rank
        let dim = c.dim, hd = c.headDim, qDim = c.heads * hd, kvDim = c.kvHeads * hd, hidden = c.hiddenDim
        let x = state.x.pointer, xn = state.xn.pointer, q = state.q.pointer, attn = state.attn.pointer
        let gate = state.gate.pointer, up = state.up.pointer, xsum = state.blockSums.pointer, scores = state.scores.pointer
        let cosines = state.ropeCos.pointer, sines = state.ropeSin.pointer, pairs = c.rotaryDim / 2
        let group = c.heads / c.kvHeads, scale = 1 / Float(hd).squareRoot()

        try weights.embedding.row(token, into: x)  // x [dim]
        rope.angles(position: start, cos: cosines, sin: sines)

        for (l, m) in matrices.layers.enumerated() {
            let layer = weights.layers[l], lora = adapter?.layers[l]
            let keys = state.keys + l * state.layerStride, values = state.values + l * state.layerStride
            let newKey = keys + start * kvDim, newValue = values + start * kvDim  // [kvHeads·hd]

            // attention block
            rmsNormRows(x, weight: layer.attentionNorm.data, eps: c.rmsNormEps, rows: 1, dim: dim, into: xn)
            ck_block_sums32(xn, dim, xsum)
            let loraQ = DecodeLowRank(lora?[.q], input: xn, scratch: h0)
            let loraK = DecodeLowRank(lora?[.k], input: xn, scratch: h1)
            let loraV = DecodeLowRank(lora?[.v], input: xn, scratch: h2)
            pool.run { part, parts in
                let rq = WorkerPool.share(m.wq.rows, chunk: part, chunks: parts)
                let rk = WorkerPool.share(m.wk.rows, chunk: part, chunks: parts)
                let rv = WorkerPool.share(m.wv.rows, chunk: part, chunks: parts)
                m.wq.multiply(rows: rq, x: xn, xsum: xsum, into: q)
                m.wk.multiply(rows: rk, x: xn, xsum: xsum, into: newKey)
                m.wv.multiply(rows: rv, x: xn, xsum: xsum, into: newValue)
                loraQ?.add(rows: rq, into: q)
                loraK?.add(rows: rk, into: newKey)
                loraV?.add(rows: rv, into: newValue)
            }
            applyRope(q, heads: c.heads, headDim: hd, layout: c.ropeLayout, pairs: pairs, cos: cosines, sin: sines)
            applyRope(newKey, heads: c.kvHeads, headDim: hd, layout: c.ropeLayout, pairs: pairs, cos: cosines, sin: sines)
            pool.run(chunks: pool.threads == 1 ? 1 : c.heads) { part, parts in
                for h in WorkerPool.share(c.heads, chunk: part, chunks: parts, granule: 1) {
                    let g = h / group
                    ck_attend_one(q + h * hd, keys + g * hd, values + g * hd, kvDim, length, hd, scale,
                                  scores + h * length, attn + h * hd)
                }
            }
            ck_block_sums32(attn, qDim, xsum)
            let loraO = DecodeLowRank(lora?[.o], input: attn, scratch: h0)
            pool.run { part, parts in
                let rows = WorkerPool.share(dim, chunk: part, chunks: parts)
                m.wo.multiply(rows: rows, x: attn, xsum: xsum, into: xn)
                loraO?.add(rows: rows, into: xn)
            }
            addInPlace(x, xn, count: dim)

            // MLP block
            rmsNormRows(x, weight: layer.mlpNorm.data, eps: c.rmsNormEps, rows: 1, dim: dim, into: xn)
            ck_block_sums32(xn, dim, xsum)
            let loraGate = DecodeLowRank(lora?[.gate], input: xn, scratch: h0)
            let loraUp = DecodeLowRank(lora?[.up], input: xn, scratch: h1)
            pool.run { part, parts in
                let rows = WorkerPool.share(hidden, chunk: part, chunks: parts)
                m.wGate.multiply(rows: rows, x: xn, xsum: xsum, into: gate)
                m.wUp.multiply(rows: rows, x: xn, xsum: xsum, into: up)
                loraGate?.add(rows: rows, into: gate)
                loraUp?.add(rows: rows, into: up)
                swiGLU(gate: gate + rows.lowerBound, up: up + rows.lowerBound, count: rows.count)
            }
            ck_block_sums32(gate, hidden, xsum)
            let loraDown = DecodeLowRank(lora?[.down], input: gate, scratch: h0)
            pool.run { part, parts in
                let rows = WorkerPool.share(dim, chunk: part, chunks: parts)
                m.wDown.multiply(rows: rows, x: gate, xsum: xsum, into: xn)
                loraDown?.add(rows: rows, into: xn)
            }
            addInPlace(x, xn, count: dim)
        }
        state.filled = length
        if wantLogits { outputLogits(x, state: state, matrices: matrices, pool: pool) }
    }

    /// state.logits [vocab] = final_norm(x) Woutᵀ for one position x [dim].
    func outputLogits(_ x: UnsafePointer<Float>, state: InferenceState, matrices: DecodeMatrices, pool: WorkerPool) {
        let c = config, xn = state.xn.pointer, xsum = state.blockSums.pointer
        rmsNormRows(x, weight: weights.finalNorm.data, eps: c.rmsNormEps, rows: 1, dim: c.dim, into: xn)
        ck_block_sums32(xn, c.dim, xsum)
        state.logits.ensure(c.vocabSize)
        let logits = state.logits.pointer, output = matrices.output
        pool.run { part, parts in
            output.multiply(rows: WorkerPool.share(output.rows, chunk: part, chunks: parts), x: xn, xsum: xsum, into: logits)
        }
    }
}
