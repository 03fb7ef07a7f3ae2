import Ingest

/// What the pipeline needs of an embedding model: normalised vectors for texts, its identity, and
/// its tokenizer's count (chunks are sized in the embedder's own tokens).
public protocol TextEmbedder: Sendable {
    var identity: EmbedderIdentity { get }
    /// The longest input in tokens; longer texts are truncated by the model.
    var maxTokens: Int { get }
    func embed(_ texts: [String]) throws -> [[Float]]
    func countTokens(_ text: String) -> Int
}

/// Lets the chunker count in the embedder's tokens.
struct EmbedderTokenCounter: TokenCounter {
    let embedder: any TextEmbedder
    func countTokens(_ text: Substring) -> Int { embedder.countTokens(String(text)) }
}
