/// The token arithmetic of an answer's prompt: how many tokens the passages may use once the
/// history, the answer and the chat template's framing are set aside. The figures are estimates
/// on the safe side; the pipeline still checks the rendered prompt's exact count before generating.
enum PromptBudget {
    /// Tokens a chat template adds around each earlier message beyond its content: ChatML's
    /// `<|im_start|>`, the role, a newline and `<|im_end|>` (the trailing newline often merges).
    static let tokensPerMessageFrame = 4

    /// Tokens kept free for what `PromptTemplate.fit` does not count: the framing of the system
    /// and user messages (2 × 4) and the assistant header the template appends
    /// (`<|im_start|>assistant\n`, 3), rounded up.
    static let reservedTokens = 16

    /// Bytes of text per token when no generator is at hand to count: the usual figure for
    /// English under a byte-level BPE (about 4 characters a token).
    static let bytesPerTokenEstimate = 4

    /// Tokens left for the system part, the passages and the question.
    static func forPassages(contextBudget: Int, contextLength: Int, maxTokens: Int, history: [String],
                            countTokens: (String) -> Int) -> Int {
        let historyTokens = history.map { countTokens($0) + tokensPerMessageFrame }.reduce(0, +)
        return min(contextBudget, contextLength) - maxTokens - historyTokens - reservedTokens
    }

    /// A rough count for when the generator cannot be loaded.
    static func estimatedTokens(_ text: String) -> Int { text.utf8.count / bytesPerTokenEstimate }
}
