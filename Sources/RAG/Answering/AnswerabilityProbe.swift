import Foundation
import Generator

/// Whether the passages hold the answer, read from the adapter's own hidden state at the end of
/// the prompt (after `layer` blocks) by a linear probe, before any token is generated. A small model
/// trained to decline learns how to say "I don't know" far better than when: the first token's
/// logits barely separate the two kinds of question, while a probe on a middle layer does (the
/// figures are in train/rag-adapter/README.md). Fitted and its threshold chosen by `rag eval refusal
/// --probe-layers` on questions the adapter was not trained on; stored in `answering.json`.
public struct AnswerabilityProbe: Codable, Sendable, Equatable {
    /// Blocks the hidden state has passed (transformers' `hidden_states` index).
    public var layer: Int
    /// Log-odds that the passages answer the question.
    public var linear: LinearProbe
    /// The pipeline declines when the log-odds are at most this.
    public var threshold: Float

    public init(layer: Int, linear: LinearProbe, threshold: Float) {
        self.layer = layer; self.linear = linear; self.threshold = threshold
    }

    /// The log-odds for a prompt, from one prefill (whose cache the answer's own prefill then reuses).
    func score(_ generator: any TextGenerator, promptTokens: [Int]) throws -> Float {
        guard let h = try generator.hiddenStates(promptTokens: promptTokens, layers: [layer]).first else {
            throw RAGError.invalidInput("\(generator.name) gave no hidden state after \(layer) blocks")
        }
        return try linear.score(h)
    }

    func declines(score: Float) -> Bool { score <= threshold }

    /// Throws, naming `file`, when this probe cannot read `generator`'s hidden state (a layer it does
    /// not have, another width): found when the adapter loads, not at the first question.
    func check(against generator: any TextGenerator, file: String) throws {
        let h: [Float]?
        do { h = try generator.hiddenStates(promptTokens: generator.textTokens("probe", parseSpecial: false), layers: [layer]).first } catch {
            throw RAGError.invalidInput("\(file): field \"probe.layer\" (\(layer)): \(error)")
        }
        guard let h, h.count == linear.weights.count else {
            throw RAGError.invalidInput("\(file): the probe reads \(linear.weights.count) values, the hidden state of \(generator.name) has \(h?.count ?? 0)")
        }
    }

    /// Why the file's probe cannot be used, or nil.
    var problem: String? {
        if layer < 0 { return "field \"probe.layer\" (\(layer)) is negative" }
        if linear.weights.isEmpty { return "field \"probe.linear.weights\" is empty" }
        if !(linear.weights.allSatisfy(\.isFinite) && linear.bias.isFinite && threshold.isFinite) {
            return "field \"probe\" holds a value that is not a finite number"
        }
        return nil
    }
}
