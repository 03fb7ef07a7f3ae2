/// A file that could not be ingested, with the reason in words a user can act on.
/// Ingest never stops a folder for one bad file: the pipeline collects these and goes on.
public struct IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case unreadable      // cannot open / read (permissions, vanished, I/O error)
        case tooLarge        // over the configured size limit
        case empty           // zero bytes, or only whitespace
        case binary          // NUL bytes or control characters: not text
        case badEncoding     // text, but not UTF-8 / UTF-16 with BOM
        case encrypted       // PDF needs a password
        case corrupt         // PDF poppler cannot parse
        case noText          // PDF opened but has no extractable text (scanned images?)
    }

    public let path: String
    public let kind: Kind
    public let reason: String

    public init(path: String, kind: Kind, reason: String) {
        self.path = path
        self.kind = kind
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}
