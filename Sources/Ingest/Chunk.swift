/// A passage to embed and index, with where it came from.
public struct Chunk: Sendable, Equatable {
    /// `LoadedDocument.path` (relative to the scanned root).
    public let documentPath: String
    /// Position of the chunk in its document, from 0.
    public let index: Int
    /// Exactly the document text between the two offsets.
    public let text: String
    /// 1-based PDF page.
    public let page: Int?
    /// Headings around the chunk, outermost first (Markdown/HTML).
    public let sectionPath: [String]
    /// Offsets in Unicode scalars (code points) into `LoadedDocument.text`, end exclusive.
    public let startOffset: Int
    public let endOffset: Int
    /// Tokens in `text` by the chunker's counter.
    public let tokenCount: Int

    /// "Fine-tuning > LoRA", or nil outside any section.
    public var sectionTitle: String? { sectionPath.isEmpty ? nil : sectionPath.joined(separator: " > ") }
}
