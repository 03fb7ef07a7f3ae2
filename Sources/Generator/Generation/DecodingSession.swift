// One generation stream over a shared, read-only LlamaModel: prefill the prompt in one batched
// pass, then decode token by token with the KV cache, sampling, streaming text to a callback.
// Not thread-safe: use one DecodingSession per concurrent stream (they share the model's weights).

import Foundation
import Tensor
import Tokenizers

/// Text of generated ids as soon as whole UTF-8 characters are available.
protocol TokenStreamDecoding {
    mutating func push(_ id: Int) -> String
    mutating func finish() -> String
}

public final class DecodingSession {
    public let model: LlamaModel
    /// Positions this generator's KV cache holds (≤ the model's context length).
    public let contextLength: Int
    /// Threads of a forward pass: a worker pool for decode steps, BLAS/Dispatch for prefill.
    public let threads: Int
    private let state: InferenceState
    /// Threads of the decode steps, created once.
    private let pool: WorkerPool
    private let makeDecoder: () -> any TokenStreamDecoding
    private let endTokens: Set<Int>
    /// Tokens whose keys/values are in the cache, in order (reused when the next prompt shares a prefix).
    private var cachedTokens: [Int] = []

    /// `contextLength` caps the KV cache (default: the model's context length; memory is reserved
    /// but only touched as positions fill). `threads` splits the matrix products; decode keeps
    /// `threads - 1` worker threads (asleep when idle) for the life of the generator.
    public convenience init(model: LlamaModel, contextLength: Int? = nil, threads: Int = Threads.count) {
        let tokenizer = model.tokenizer
        self.init(model: model, contextLength: contextLength, threads: threads,
                  decoder: { BPEStreamingDecoder(tokenizer: tokenizer, skipSpecial: true) }, endTokens: model.endOfTurnTokens)
    }

    init(model: LlamaModel, contextLength: Int?, threads: Int,
         decoder: @escaping () -> any TokenStreamDecoding, endTokens: Set<Int>) {
        self.model = model
        // A prompt-tuned model's virtual tokens take the first positions, beyond what callers count.
        let virtual = model.virtualTokenIDs.count
        self.contextLength = max(1, min(contextLength ?? model.config.contextLength, model.config.contextLength - virtual))
        self.threads = max(1, threads)
        state = InferenceState(config: model.config, contextLength: self.contextLength + virtual)
        pool = WorkerPool(threads: self.threads)
        makeDecoder = decoder
        self.endTokens = endTokens
    }

    /// Generates a continuation of `promptTokens`, calling `onText` with each piece of text as soon
    /// as it is decoded (return false to stop). Throws for bad options, out-of-vocabulary ids or a
    /// prompt that leaves no room in the context window.
    public func generate(promptTokens: [Int], options: SamplingOptions,
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationOutput {
        try options.validate()
        try check(promptTokens)
        let vocab = model.config.vocabSize
        var output = GenerationOutput(text: "", tokenIDs: [], finishReason: .maxTokens, endTokenID: nil,
                                      promptTokens: promptTokens.count, prefillSeconds: 0, decodeSeconds: 0)
        guard options.maxTokens > 0 else { return output }

        let prefillStart = DispatchTime.now()
        try prefill(model.virtualTokenIDs + promptTokens)
        let decodeStart = DispatchTime.now()
        output.prefillSeconds = seconds(prefillStart, decodeStart)

        var sampler = Sampler(options: options)
        var decoder = makeDecoder()
        var filter = StopStringFilter(stop: options.stop)
        var history = promptTokens
        var finish: StopCause = .maxTokens
        var stillListening = true
        while true {
            if output.tokenIDs.count >= options.maxTokens { finish = .maxTokens; break }
            if Task.isCancelled { finish = .cancelled; break }
            if output.tokenIDs.isEmpty {
                for (id, bias) in options.firstTokenBias where id >= 0 && id < vocab { state.logits.pointer[id] += bias }
            }
            let next = sampler.next(logits: state.logits.pointer, count: vocab, recent: history[...])
            if options.stopAtEndOfTurn && endTokens.contains(next) {
                finish = .endOfTurn
                output.endTokenID = next
                break
            }
            output.tokenIDs.append(next)
            history.append(next)
            let piece = filter.push(decoder.push(next))
            if !piece.isEmpty {
                output.text += piece
                stillListening = onText(piece)
            }
            if filter.stopped { finish = .stopString; break }
            if !stillListening { finish = .cancelled; break }
            if output.tokenIDs.count >= options.maxTokens { finish = .maxTokens; break }
            if state.filled >= contextLength + model.virtualTokenIDs.count { finish = .contextFull; break }
            try run([next], logits: .last)
        }
        if finish != .stopString && finish != .cancelled {  // release what was held back
            var tail = filter.push(decoder.finish())
            if filter.stopped { finish = .stopString }
            tail += filter.finish()
            if !tail.isEmpty {
                output.text += tail
                _ = onText(tail)
            }
        }
        output.finishReason = finish
        output.decodeSeconds = seconds(decodeStart, DispatchTime.now())
        return output
    }

    /// Logits at every position of `tokens` (teacher forcing), [tokens.count][vocab].
    public func logits(for tokens: [Int]) throws -> [[Float]] {
        guard !tokens.isEmpty else { return [] }
        guard tokens.count <= contextLength else {
            throw GeneratorError.contextOverflow(promptTokens: tokens.count, contextLength: contextLength)
        }
        reset()
        let virtual = model.virtualTokenIDs
        try run(virtual + tokens, logits: .all)
        let vocab = model.config.vocabSize
        return (virtual.count..<(virtual.count + tokens.count)).map { i in
            Array(UnsafeBufferPointer(start: state.logits.pointer + i * vocab, count: vocab))
        }
    }

    /// The logits of the token after `tokens` ([vocab]): one prefill, reusing a cached prefix
    /// (a judge scoring one next token, without the [T, vocab] of `logits(for:)`).
    public func nextTokenLogits(after tokens: [Int]) throws -> [Float] {
        try check(tokens)
        try prefill(model.virtualTokenIDs + tokens)
        return Array(UnsafeBufferPointer(start: state.logits.pointer, count: model.config.vocabSize))
    }

    /// The hidden states at the last position of `tokens` after each of `layers` blocks ([layers][dim];
    /// 0 = the embeddings, `config.layers` = after the final norm, numbered as transformers'
    /// `hidden_states`), from one full prefill whose cache the next prompt sharing the prefix reuses
    /// (a probe read before answering).
    public func hiddenStates(after tokens: [Int], layers: [Int]) throws -> [[Float]] {
        try check(tokens)
        if let bad = layers.first(where: { !(0...model.config.layers).contains($0) }) {
            throw GeneratorError.invalidOptions("hidden state after \(bad) blocks: the model has \(model.config.layers)")
        }
        reset()  // the state of the last position is only known to a pass that runs it
        state.captureLayers = Set(layers)
        defer { state.captureLayers = [] }
        try run(model.virtualTokenIDs + tokens, logits: .none)
        return layers.compactMap { state.captured[$0] }
    }

    /// How many leading tokens of `tokens` the cache already holds: the part of its prefill a
    /// prompt would skip here (a pool of sessions gives a prompt the one that has most of it).
    public func cachedPrefixLength(of tokens: [Int]) -> Int {
        let all = model.virtualTokenIDs + tokens
        var shared = 0
        while shared < min(cachedTokens.count, all.count), cachedTokens[shared] == all[shared] { shared += 1 }
        return shared
    }

    /// Forgets the cached prompt.
    public func reset() {
        state.filled = 0
        cachedTokens.removeAll()
    }

    // MARK: - internals

    /// A prompt must have tokens, leave room in the context window, and name only known ids.
    private func check(_ prompt: [Int]) throws {
        guard !prompt.isEmpty else { throw GeneratorError.invalidOptions("the prompt has no tokens") }
        guard prompt.count < contextLength else {
            throw GeneratorError.contextOverflow(promptTokens: prompt.count, contextLength: contextLength)
        }
        let vocab = model.config.vocabSize
        if let bad = prompt.first(where: { $0 < 0 || $0 >= vocab }) {
            throw GeneratorError.invalidOptions("prompt token id \(bad) is outside the vocabulary (0 ..< \(vocab))")
        }
    }

    /// Runs the prompt, reusing the cached keys/values of a shared prefix; leaves the logits of
    /// its last position in `state.logits`.
    private func prefill(_ prompt: [Int]) throws {
        var shared = 0
        while shared < min(cachedTokens.count, prompt.count - 1), cachedTokens[shared] == prompt[shared] { shared += 1 }
        state.filled = shared
        cachedTokens.removeSubrange(shared...)
        try run(Array(prompt[shared...]), logits: .last)
    }

    /// Forward pass of `tokens` after the cache; keeps `cachedTokens` in step with the cache.
    func run(_ tokens: [Int], logits: LogitRows) throws {
        do {
            try model.forward(tokens, state: state, logits: logits, threads: threads, pool: pool)
        } catch {
            reset()
            throw error
        }
        cachedTokens.append(contentsOf: tokens)
    }

    /// Logits left by the last forward pass ([vocab] for the last position).
    var lastLogits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: state.logits.pointer, count: model.config.vocabSize) }
}

private func seconds(_ a: DispatchTime, _ b: DispatchTime) -> Double {
    Double(b.uptimeNanoseconds - a.uptimeNanoseconds) / 1e9
}
