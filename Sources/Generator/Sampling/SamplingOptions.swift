// How the next token is chosen and when generation ends.

public struct SamplingOptions: Sendable, Equatable {
    /// Divides the logits; 0 means greedy (argmax).
    public var temperature: Float
    /// Keep only the k most likely tokens (0 = off).
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = off).
    public var topP: Float
    /// Keep tokens at least minP × the probability of the most likely one (0 = off).
    public var minP: Float
    /// > 1 makes tokens seen in the last `repetitionWindow` tokens less likely (1 = off):
    /// a positive logit is divided by it, a negative one multiplied (CTRL, Keskar et al. 2019).
    public var repetitionPenalty: Float
    /// How many of the latest tokens (prompt included) the penalty looks at.
    public var repetitionWindow: Int
    /// Same seed, same prompt, same options: same tokens. Nil draws a seed from the system.
    public var seed: UInt64?
    /// Generated tokens at most (end-of-turn excluded).
    public var maxTokens: Int
    /// Generation ends before the first occurrence of any of these; the stop text is not emitted.
    public var stop: [String]
    /// End at the model's end-of-turn / eos tokens (false: benchmarks that need a fixed length).
    public var stopAtEndOfTurn: Bool
    /// Added to these tokens' logits before the first token is chosen, and only then: how a
    /// calibrated prior on how an answer opens (the adapter's refusal, `RefusalCalibration`) enters.
    public var firstTokenBias: [Int: Float] = [:]

    public init(temperature: Float = 0.7, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
                repetitionPenalty: Float = 1.0, repetitionWindow: Int = 64, seed: UInt64? = nil,
                maxTokens: Int = 256, stop: [String] = [], stopAtEndOfTurn: Bool = true) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
        self.maxTokens = maxTokens
        self.stop = stop
        self.stopAtEndOfTurn = stopAtEndOfTurn
    }

    /// What `rag ask`, chat and the server use unless a request says otherwise: greedy (temperature
    /// 0: an answer is the model's best reading of the passages), with top-k 40, top-p 0.95 and min-p
    /// 0.05 ready for a request that raises the temperature, and no repetition penalty: a grounded
    /// answer repeats the passages' words, and the penalty pushed against them. Measured with the
    /// default adapter on corpus/questions.jsonl (README, Answer quality): turning 1.1 off raised
    /// token F1 0.066 → 0.082, key fact 0.133 → 0.190 and first-citation accuracy 0.414 → 0.462.
    public static let answering = SamplingOptions(temperature: 0, repetitionPenalty: 1)

    /// Argmax decoding.
    public static func greedy(maxTokens: Int = 256, stop: [String] = []) -> SamplingOptions {
        SamplingOptions(temperature: 0, topK: 0, topP: 1, minP: 0, maxTokens: maxTokens, stop: stop)
    }

    /// The same options, not stopping at end-of-turn tokens.
    public var withoutEndOfTurn: SamplingOptions {
        var copy = self
        copy.stopAtEndOfTurn = false
        return copy
    }

    /// Stop strings given as bytes (e.g. from a request body): each must be valid, non-empty UTF-8.
    public static func stopStrings(utf8 sequences: [[UInt8]]) throws -> [String] {
        try sequences.enumerated().map { i, bytes in
            guard let s = String(validating: bytes, as: UTF8.self) else {
                throw GeneratorError.invalidOptions("stop string \(i) is not valid UTF-8 (bytes \(bytes.prefix(16).map { String($0, radix: 16) }))")
            }
            return s
        }
    }

    /// Throws naming the first option out of range.
    public func validate() throws {
        func fail(_ m: String) -> GeneratorError { .invalidOptions(m) }
        guard temperature.isFinite, temperature >= 0 else { throw fail("temperature \(temperature) must be ≥ 0") }
        guard topK >= 0 else { throw fail("top_k \(topK) must be ≥ 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw fail("top_p \(topP) must be in (0, 1]") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw fail("min_p \(minP) must be in [0, 1]") }
        guard repetitionPenalty.isFinite, repetitionPenalty > 0 else {
            throw fail("repetition penalty \(repetitionPenalty) must be > 0")
        }
        guard repetitionWindow >= 0 else { throw fail("repetition window \(repetitionWindow) must be ≥ 0") }
        guard maxTokens >= 0 else { throw fail("max tokens \(maxTokens) must be ≥ 0") }
        for (id, bias) in firstTokenBias where !bias.isFinite { throw fail("first-token bias \(bias) of token \(id) is not finite") }
        for (i, s) in stop.enumerated() {
            guard !s.isEmpty else { throw fail("stop string \(i) is empty") }
            // Invalid UTF-8 that reached a String was replaced by U+FFFD when it was decoded.
            guard !s.unicodeScalars.contains("\u{FFFD}") else {
                throw fail("stop string \(i) (\(s.debugDescription)) contains U+FFFD: it was not valid UTF-8")
            }
        }
    }
}
