import Foundation
import RAG
import Tokenizers

/// The real generator with a record of the token ids each generation was given: what the model
/// was actually sent. Everything else is the wrapped generator's own behaviour.
public final class RecordingGenerator: TextGenerator, @unchecked Sendable {
    public let base: any TextGenerator
    private var prompts: [[Int]] = []
    private let lock = NSLock()

    public init(_ base: any TextGenerator) { self.base = base }

    /// The prompts generated from so far, oldest first.
    public var recordedPrompts: [[Int]] { lock.withLock { prompts } }

    public var name: String { base.name }
    public var contextLength: Int { base.contextLength }
    public func countTokens(_ text: String) -> Int { base.countTokens(text) }
    public func chatTokens(_ messages: [ChatMessage]) throws -> [Int] { try base.chatTokens(messages) }
    public func textTokens(_ text: String, parseSpecial: Bool) -> [Int] { base.textTokens(text, parseSpecial: parseSpecial) }

    public func generate(promptTokens: [Int], options: GenerationOptions, onText: (String) -> Bool) throws -> CompletionResult {
        lock.withLock { prompts.append(promptTokens) }
        return try base.generate(promptTokens: promptTokens, options: options, onText: onText)
    }

    public func firstTokenLogits(promptTokens: [Int]) throws -> [Float] { try base.firstTokenLogits(promptTokens: promptTokens) }

    public func hiddenStates(promptTokens: [Int], layers: [Int]) throws -> [[Float]] {
        try base.hiddenStates(promptTokens: promptTokens, layers: layers)
    }

    public func adapted(by directory: URL) throws -> any TextGenerator { RecordingGenerator(try base.adapted(by: directory)) }
}
