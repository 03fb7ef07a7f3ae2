/// A part of a document that is chunked on its own: one PDF page, or one Markdown/HTML section.
public struct DocumentSegment: Sendable, Equatable {
    /// Offsets in Unicode scalars (code points) into `LoadedDocument.text`, end exclusive.
    public let startOffset: Int
    public let endOffset: Int
    /// 1-based page number (PDF only).
    public let page: Int?
    /// Headings from the outermost to the nearest, e.g. ["Fine-tuning", "LoRA"] (Markdown/HTML).
    public let sectionPath: [String]
    /// The same range in UTF-8 bytes, for O(1) slicing of `text`.
    let utf8Range: Range<Int>

    /// "Fine-tuning > LoRA", or nil outside any section.
    public var sectionTitle: String? { sectionPath.isEmpty ? nil : sectionPath.joined(separator: " > ") }
}

/// A file's normalised text and its structure.
public struct LoadedDocument: Sendable, Equatable {
    /// `SourceFile.relativePath`.
    public let path: String
    public let kind: FileKind
    /// HTML <title>, the first Markdown level-1 heading, or the PDF's title metadata.
    public let title: String?
    /// Normalised text (see `TextNormalizer`); segments are separated by paragraph breaks.
    public let text: String
    public let segments: [DocumentSegment]
    /// Pages in the PDF, including pages without text; nil for other formats.
    public let pageCount: Int?

    /// The text of one segment.
    public func text(of segment: DocumentSegment) -> Substring {
        text.utf8Slice(segment.utf8Range)
    }
}

extension String {
    /// The characters between two UTF-8 offsets that lie on scalar boundaries.
    func utf8Slice(_ range: Range<Int>) -> Substring {
        let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
        let end = utf8.index(start, offsetBy: range.count)
        return self[start..<end]
    }
}

/// What a format loader produces before normalisation.
struct RawSegment {
    var text: String
    var page: Int? = nil
    var sectionPath: [String] = []
}

enum DocumentAssembler {
    /// Normalises each raw segment, drops the empty ones and joins the rest with paragraph breaks.
    static func assemble(path: String, kind: FileKind, title: String?, raw: [RawSegment],
                         pageCount: Int? = nil, alreadyNormalized: Bool = false) -> LoadedDocument {
        var text = ""
        var segments: [DocumentSegment] = []
        var scalarOffset = 0, utf8Offset = 0
        for part in raw {
            let normalized = alreadyNormalized ? part.text : TextNormalizer.normalize(part.text)
            guard !normalized.isEmpty else { continue }
            if !text.isEmpty {
                text += TextNormalizer.paragraphBreak
                scalarOffset += 2
                utf8Offset += 2
            }
            let scalars = normalized.unicodeScalars.count
            let bytes = normalized.utf8.count
            segments.append(DocumentSegment(startOffset: scalarOffset, endOffset: scalarOffset + scalars,
                                            page: part.page, sectionPath: part.sectionPath,
                                            utf8Range: utf8Offset..<(utf8Offset + bytes)))
            text += normalized
            scalarOffset += scalars
            utf8Offset += bytes
        }
        return LoadedDocument(path: path, kind: kind, title: title, text: text, segments: segments,
                              pageCount: pageCount)
    }
}
