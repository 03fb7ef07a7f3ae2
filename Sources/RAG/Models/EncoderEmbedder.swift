import Embedder
import Foundation

/// The pipeline's view of a `SentenceEncoder` (BERT family, Hugging Face layout).
public struct EncoderEmbedder: TextEmbedder {
    public let encoder: SentenceEncoder

    public init(encoder: SentenceEncoder) { self.encoder = encoder }

    public var identity: EmbedderIdentity { EmbedderIdentity(name: encoder.identity, dimension: encoder.dimension) }
    public var maxTokens: Int { encoder.maxTokens }
    public func embed(_ texts: [String]) throws -> [[Float]] { try encoder.encode(texts) }
    public func countTokens(_ text: String) -> Int { encoder.tokenizer.countTokens(text) }
}
