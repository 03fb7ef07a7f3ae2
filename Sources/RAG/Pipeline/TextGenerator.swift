import Foundation
import Tokenizers

/// What the pipeline needs of a generator model: its tokenizer, its chat template, and streamed
/// generation from token ids. Adapts `Generator.LlamaModel` (see LlamaTextGenerator.swift).
///
/// Prompts travel as token ids, never as rendered strings: the chat template's markers are
/// control tokens and text from outside (questions, passages, HTTP messages) is always encoded
/// as text, so no text can become a control token on the way to the model.
public protocol TextGenerator: Sendable {
    var name: String { get }
    var contextLength: Int { get }
    /// Tokens of `text` encoded as text (markers written in it are not control tokens), no BOS.
    func countTokens(_ text: String) -> Int
    /// The conversation encoded with the model's chat template, ending with the assistant's turn.
    func chatTokens(_ messages: [ChatMessage]) throws -> [Int]
    /// A raw prompt's ids (BOS as the model wants); control tokens written in it (`<|im_start|>` …)
    /// become control ids only with `parseSpecial`.
    func textTokens(_ text: String, parseSpecial: Bool) -> [Int]
    /// Generates a continuation of `promptTokens`; `onText` gets each complete piece and returns false to stop.
    func generate(promptTokens: [Int], options: GenerationOptions, onText: (String) -> Bool) throws -> CompletionResult
    /// The logits the first generated token of `promptTokens` is chosen from ([vocab]; calibration).
    func firstTokenLogits(promptTokens: [Int]) throws -> [Float]
    /// The hidden states at the last position of `promptTokens` after each of `layers` blocks
    /// ([layers][dim]; numbered as transformers' `hidden_states`: 0 = embeddings, the last after the
    /// final norm), for a probe.
    func hiddenStates(promptTokens: [Int], layers: [Int]) throws -> [[Float]]
    /// The same model with a LoRA adapter (PEFT layout) applied, sharing the base weights.
    func adapted(by directory: URL) throws -> any TextGenerator
}
