import Foundation
import Generator
import Tokenizers

/// The pipeline's view of a Llama-family model. Generation state (the KV cache) lives in a
/// `DecodingSession`; a few are kept for reuse so that consecutive requests don't reallocate the cache,
/// and concurrent requests each get their own over the shared weights. A request takes the idle
/// session whose cache holds the longest prefix of its prompt: the answer after a probe's prefill
/// (or the next turn of a chat) finds its own cache even when other requests ran in between.
public final class LlamaTextGenerator: TextGenerator, @unchecked Sendable {
    public let model: LlamaModel
    public let contextLength: Int
    private var idle: [DecodingSession] = []
    private let lock = NSLock()

    /// - Parameter contextLength: the most positions a request may use (bounded by the model's own).
    public init(model: LlamaModel, contextLength: Int = 4096) {
        self.model = model
        // (a prompt-tuned model's virtual tokens use positions of their own)
        self.contextLength = max(64, min(contextLength, model.config.contextLength - model.virtualTokenIDs.count))
    }

    /// The model file's name, or the adapter's folder name when one is applied.
    public var name: String { model.adapterName ?? model.url.lastPathComponent }

    public func adapted(by directory: URL) throws -> any TextGenerator {
        do { return LlamaTextGenerator(model: try model.adapted(by: directory), contextLength: contextLength) } catch {
            throw RAGError.modelMissing("cannot load the adapter at \(directory.path): \(error)")
        }
    }

    public func countTokens(_ text: String) -> Int { model.tokenizer.countTokens(text) }

    public func chatTokens(_ messages: [ChatMessage]) throws -> [Int] {
        do { return try model.promptTokens(for: messages.map { ChatMessage(role: $0.role, content: $0.content) }) } catch {
            throw RAGError.modelMissing("\(name): cannot encode chat: \(error)")
        }
    }

    public func textTokens(_ text: String, parseSpecial: Bool) -> [Int] {
        model.tokenizer.encode(text, parseSpecial: parseSpecial, addBOS: model.tokenizer.addBOS)
    }

    public func generate(promptTokens tokens: [Int], options: GenerationOptions, onText: (String) -> Bool) throws -> CompletionResult {
        let generator = take(for: tokens)
        defer { give(generator) }
        let out = try generator.generate(promptTokens: tokens, options: options.sampling, onText: onText)
        let finishReason: FinishReason
        switch out.finishReason {
        case .endOfTurn, .stopString: finishReason = .stop
        case .maxTokens, .contextFull: finishReason = .length
        case .cancelled: finishReason = .cancelled
        }
        let prefillRate = out.prefillSeconds > 0 ? Double(out.promptTokens) / out.prefillSeconds : 0
        return CompletionResult(
            text: out.text, tokenIDs: out.tokenIDs,
            usage: Usage(promptTokens: out.promptTokens, completionTokens: out.tokenIDs.count),
            timings: Timings(prefillTokensPerS: prefillRate, decodeTokensPerS: out.decodeTokensPerSecond),
            finishReason: finishReason)
    }

    public func firstTokenLogits(promptTokens: [Int]) throws -> [Float] {
        let session = take(for: promptTokens)
        defer { give(session) }
        return try session.nextTokenLogits(after: promptTokens)
    }

    public func hiddenStates(promptTokens: [Int], layers: [Int]) throws -> [[Float]] {
        let session = take(for: promptTokens)
        defer { give(session) }
        return try session.hiddenStates(after: promptTokens, layers: layers)
    }

    /// The idle session sharing the longest prefix with `prompt` (the most recently used on a tie), or a new one.
    private func take(for prompt: [Int]) -> DecodingSession {
        lock.lock()
        var best: (index: Int, shared: Int)?
        for (i, s) in idle.enumerated() {
            let shared = s.cachedPrefixLength(of: prompt)
            if shared >= best?.shared ?? 0 { best = (i, shared) }
        }
        let g = best.map { idle.remove(at: $0.index) }
        lock.unlock()
        return g ?? DecodingSession(model: model, contextLength: contextLength)
    }

    private func give(_ g: DecodingSession) {
        lock.lock()
        if idle.count < 4 { idle.append(g) }
        lock.unlock()
    }
}
