import Foundation

/// Reads one file into a `LoadedDocument`, by format. Every failure is an `IngestError` naming the
/// file's relative path and the reason; nothing here stops on bad input.
public struct DocumentLoader: Sendable {
    /// Files larger than this are refused (checked again here: files change after a scan).
    public var maxFileSize: Int64

    public init(maxFileSize: Int64 = ScanOptions.defaultMaxFileSize) {
        self.maxFileSize = maxFileSize
    }

    public func load(_ file: SourceFile) throws(IngestError) -> LoadedDocument {
        let path = file.relativePath
        guard let status = FileStatus(path: file.url.path) else {
            throw IngestError(path: path, kind: .unreadable, reason: "file not found")
        }
        guard status.type == .regular else {
            throw IngestError(path: path, kind: .unreadable, reason: "not a regular file")
        }
        if status.size == 0 {
            throw IngestError(path: path, kind: .empty, reason: "empty file")
        }
        if status.size > maxFileSize {
            throw IngestError(path: path, kind: .tooLarge,
                              reason: "file too large (\(status.size) bytes, limit \(maxFileSize))")
        }

        let document: LoadedDocument
        switch file.kind {
        case .pdf:
            document = try PDFLoader.load(file.url, path: path)
        case .text:
            let text = try TextDecoding.decodeFile(file.url, shownAs: path)
            document = DocumentAssembler.assemble(path: path, kind: .text, title: nil, raw: [RawSegment(text: text)])
        case .markdown:
            let text = try TextDecoding.decodeFile(file.url, shownAs: path)
            let parsed = MarkdownLoader.parse(text)
            document = DocumentAssembler.assemble(path: path, kind: .markdown, title: parsed.title, raw: parsed.segments)
        case .html:
            let text = try TextDecoding.decodeFile(file.url, shownAs: path)
            let parsed = HTMLLoader.parse(text)
            document = DocumentAssembler.assemble(path: path, kind: .html, title: parsed.title, raw: parsed.segments)
        }
        if document.text.isEmpty {
            if file.kind == .pdf {
                throw IngestError(path: path, kind: .noText,
                                  reason: "PDF has no extractable text (\(document.pageCount ?? 0) pages; scanned images?)")
            }
            throw IngestError(path: path, kind: .empty, reason: "no text (only whitespace or markup)")
        }
        return document
    }
}

enum PDFLoader {
    static func load(_ url: URL, path: String) throws(IngestError) -> LoadedDocument {
        let extracted = try PDFExtractor.extract(url, shownAs: path)
        let pageLines = extracted.pages.map { page in
            page.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        let cleaned = PageCleanup.removeRunningHeadersAndFooters(pageLines)
        let raw = cleaned.enumerated().map { index, lines in
            let text = TextNormalizer.dehyphenate(PageCleanup.markParagraphs(lines)).joined(separator: "\n")
            return RawSegment(text: text, page: index + 1)
        }
        return DocumentAssembler.assemble(path: path, kind: .pdf, title: extracted.title, raw: raw,
                                          pageCount: extracted.pages.count)
    }
}
