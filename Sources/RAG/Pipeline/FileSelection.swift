import Ingest

/// Which files of a folder `ingest` and `sync` read: the pipeline's own terms for Ingest's
/// `ScanOptions`, so that a front end sets them without importing Ingest.
public struct FileSelection: Sendable, Equatable {
    /// Also read files and folders whose name starts with ".".
    public var includeHidden: Bool
    /// If not empty, only files whose relative path matches one of these globs.
    public var include: [String]
    /// Files (and folders, then not walked) whose relative path matches one of these globs are left out.
    public var exclude: [String]
    /// Larger files are reported as too large instead of read.
    public var maxFileSize: Int64

    public static let defaultMaxFileSize = ScanOptions.defaultMaxFileSize

    public init(includeHidden: Bool = false, include: [String] = [], exclude: [String] = [],
                maxFileSize: Int64 = FileSelection.defaultMaxFileSize) {
        self.includeHidden = includeHidden; self.include = include; self.exclude = exclude
        self.maxFileSize = maxFileSize
    }

    var scanOptions: ScanOptions {
        ScanOptions(includeHidden: includeHidden, include: include, exclude: exclude, maxFileSize: maxFileSize)
    }
}
