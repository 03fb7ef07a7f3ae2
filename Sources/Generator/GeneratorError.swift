// Errors of the Generator module; each names the file, key, tensor or option at fault.

public enum GeneratorError: Error, CustomStringConvertible, Equatable {
    /// The checkpoint is not a Llama-family decoder (names the file and what it is).
    case unsupportedArchitecture(String)
    /// A configuration key is missing or has an impossible value.
    case invalidConfig(String)
    /// A weight is missing, has the wrong shape, or a type we cannot multiply.
    case invalidWeights(String)
    /// No tokenizer could be built from the checkpoint.
    case missingTokenizer(String)
    /// The prompt (plus at least one generated token) does not fit the context window.
    case contextOverflow(promptTokens: Int, contextLength: Int)
    /// A sampling option or a prompt token id is out of range.
    case invalidOptions(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let m): return "unsupported model architecture: \(m)"
        case .invalidConfig(let m): return "invalid model configuration: \(m)"
        case .invalidWeights(let m): return "invalid model weights: \(m)"
        case .missingTokenizer(let m): return "missing tokenizer: \(m)"
        case .contextOverflow(let n, let ctx):
            return "the prompt has \(n) tokens but the context window holds \(ctx) (prompt plus at least one "
                + "generated token); shorten the retrieved passages"
        case .invalidOptions(let m): return "invalid generation options: \(m)"
        }
    }
}
