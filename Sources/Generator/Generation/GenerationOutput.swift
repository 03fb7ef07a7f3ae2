// The result of one generate call.

public enum StopCause: String, Sendable, Equatable {
    /// An end-of-turn / end-of-sequence token was produced.
    case endOfTurn
    /// A stop string was produced (it is not part of the text).
    case stopString
    /// `maxTokens` tokens were generated.
    case maxTokens
    /// The context window is full.
    case contextFull
    /// The callback returned false, or the task was cancelled.
    case cancelled
}

public struct GenerationOutput: Sendable, Equatable {
    /// The text streamed to the callback (stop text excluded).
    public var text: String
    /// Generated token ids (an end-of-turn token that ended generation excluded).
    public var tokenIDs: [Int]
    public var finishReason: StopCause
    /// The end-of-turn token that ended generation (finishReason .endOfTurn), which `tokenIDs` leaves out.
    public var endTokenID: Int?
    /// Prompt length in tokens.
    public var promptTokens: Int
    public var prefillSeconds: Double
    public var decodeSeconds: Double

    /// Generated tokens per second of decoding (the first token comes from the prefill).
    public var decodeTokensPerSecond: Double {
        decodeSeconds > 0 ? Double(max(tokenIDs.count - 1, 0)) / decodeSeconds : 0
    }
}
