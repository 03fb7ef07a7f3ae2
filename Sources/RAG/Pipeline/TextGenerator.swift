import Foundation

/// What the pipeline needs of a generator model: its tokenizer's count, its chat template, and
/// streamed generation. Adapts `Generator.LlamaModel` (see LlamaTextGenerator.swift).
public protocol TextGenerator: Sendable {
    var name: String { get }
    var contextLength: Int { get }
    func countTokens(_ text: String) -> Int
    /// The conversation rendered with the model's chat template, ending with the assistant's turn.
    func renderChat(_ messages: [ChatTurn]) throws -> String
    /// Generates a continuation of `prompt`; `onText` gets each complete piece and returns false to stop.
    func generate(prompt: String, options: GenerationOptions, onText: (String) -> Bool) throws -> CompletionResult
    /// The same model with a LoRA adapter (PEFT layout) applied, sharing the base weights.
    func adapted(by directory: URL) throws -> any TextGenerator
}
