// What one generation stream owns: the KV cache and the scratch buffers of the forward pass.
// Allocated once per Generator and reused for every token (decode allocates nothing).
//
// KV cache layout: [layers, ctx, kvHeads, headDim] for keys and for values. Memory is reserved
// for the whole context but left untouched (so not resident) until positions are written.

final class InferenceState {
    let config: LlamaConfig
    let contextLength: Int
    let keys: UnsafeMutablePointer<Float>    // [layers, ctx, kvHeads, hd]
    let values: UnsafeMutablePointer<Float>  // [layers, ctx, kvHeads, hd]
    /// Positions 0 ..< filled hold keys and values.
    var filled = 0

    // Scratch, each sized for `capacity` tokens at a time.
    private(set) var capacity = 0
    private(set) var x = ScratchBuffer()       // [T, dim]     residual stream
    private(set) var xn = ScratchBuffer()      // [T, dim]     normalised input of a sub-layer
    private(set) var q = ScratchBuffer()       // [T, heads·hd]
    private(set) var attn = ScratchBuffer()    // [T, heads·hd] attention output before wo
    private(set) var gate = ScratchBuffer()    // [T, hidden]
    private(set) var up = ScratchBuffer()      // [T, hidden]
    private(set) var ropeCos = ScratchBuffer() // [T, rotary/2]
    private(set) var ropeSin = ScratchBuffer() // [T, rotary/2]
    let scores = ScratchBuffer()               // [heads or group, start+1] attention probabilities of a decode step
    let logits = ScratchBuffer()               // [T or 1, vocab]
    let lowRank = ScratchBuffer()              // [3 × LoRA rank] A x of a decode step's adapted projections
    let blockSums = ScratchBuffer()            // [max(dim, heads·hd, hidden) / 32] sums of 32-value blocks of a matvec input

    /// A prefill records the last position's hidden state after each of these many blocks in
    /// `captured` (0 = the embeddings; `layers` = after the final norm, as transformers reports
    /// its last hidden state).
    var captureLayers: Set<Int> = []
    private(set) var captured: [Int: [Float]] = [:]

    func capture(_ row: UnsafePointer<Float>, layer: Int) {
        captured[layer] = Array(UnsafeBufferPointer(start: row, count: config.dim))
    }

    init(config: LlamaConfig, contextLength: Int) {
        self.config = config
        self.contextLength = contextLength
        let perCache = config.layers * contextLength * config.kvHeads * config.headDim
        keys = .allocate(capacity: max(perCache, 1))
        values = .allocate(capacity: max(perCache, 1))
        reserve(tokens: 1)
        blockSums.ensure(max(config.dim, config.heads * config.headDim, config.hiddenDim) / 32 + 1)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Floats of one layer's cache: ctx × kvHeads × hd.
    var layerStride: Int { contextLength * config.kvHeads * config.headDim }

    /// Grows the scratch buffers to hold `tokens` tokens.
    func reserve(tokens: Int) {
        guard tokens > capacity else { return }
        let c = config
        x.ensure(tokens * c.dim)
        xn.ensure(tokens * c.dim)
        q.ensure(tokens * c.heads * c.headDim)
        attn.ensure(tokens * c.heads * c.headDim)
        gate.ensure(tokens * c.hiddenDim)
        up.ensure(tokens * c.hiddenDim)
        ropeCos.ensure(tokens * c.rotaryDim / 2)
        ropeSin.ensure(tokens * c.rotaryDim / 2)
        capacity = tokens
    }
}

/// A growable Float buffer whose contents are scratch (not kept when it grows).
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init() {
        capacity = 1
        pointer = .allocate(capacity: 1)
    }

    deinit { pointer.deallocate() }

    func ensure(_ count: Int) {
        guard count > capacity else { return }
        pointer.deallocate()
        pointer = .allocate(capacity: count)
        capacity = count
    }
}
