import Foundation

/// The formats Ingest reads, chosen by file extension (case-insensitive).
public enum FileKind: String, Sendable, Equatable, Hashable, CaseIterable {
    case text, markdown, html, pdf

    public static func forExtension(_ ext: String) -> FileKind? {
        switch ext.lowercased() {
        case "txt", "text": return .text
        case "md", "markdown": return .markdown
        case "html", "htm", "xhtml": return .html
        case "pdf": return .pdf
        default: return nil
        }
    }
}

/// One file found by `FolderScanner`, with what change detection needs before reading it.
public struct SourceFile: Sendable, Equatable, Hashable {
    /// Path relative to the scanned root, with `/` separators (the document's identity in a knowledge base).
    public let relativePath: String
    public let url: URL
    public let size: Int64
    /// Modification time in nanoseconds since 1970 (exact, so equality means "unchanged").
    public let mtimeNanoseconds: Int64
    public let kind: FileKind

    public init(relativePath: String, url: URL, size: Int64, mtimeNanoseconds: Int64, kind: FileKind) {
        self.relativePath = relativePath
        self.url = url
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.kind = kind
    }

    /// A file outside any scan (a single path given by the user); kind from its extension.
    public init?(url: URL, relativePath: String? = nil) {
        guard let kind = FileKind.forExtension(url.pathExtension),
              let info = FileStatus(path: url.path) else { return nil }
        self.init(relativePath: relativePath ?? url.lastPathComponent, url: url,
                  size: info.size, mtimeNanoseconds: info.mtimeNanoseconds, kind: kind)
    }

    public var modificationDate: Date { Date(timeIntervalSince1970: Double(mtimeNanoseconds) / 1e9) }
}
