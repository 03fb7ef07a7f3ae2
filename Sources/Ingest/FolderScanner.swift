import Foundation

/// What to take from a folder.
public struct ScanOptions: Sendable, Equatable {
    /// Also walk files and folders whose name starts with ".".
    public var includeHidden: Bool
    /// If not empty, only files matching one of these globs are taken (see `Glob`).
    public var include: [Glob]
    /// Files (and folders, which are then not walked) matching one of these globs are left out.
    public var exclude: [Glob]
    /// Larger files are reported as `IngestError.Kind.tooLarge` instead of being listed.
    public var maxFileSize: Int64

    public static let defaultMaxFileSize: Int64 = 256 << 20

    public init(includeHidden: Bool = false, include: [String] = [], exclude: [String] = [],
                maxFileSize: Int64 = ScanOptions.defaultMaxFileSize) {
        self.includeHidden = includeHidden
        self.include = include.map(Glob.init)
        self.exclude = exclude.map(Glob.init)
        self.maxFileSize = maxFileSize
    }
}

/// Why a path found in the folder is not in `ScanResult.files`.
public enum SkipReason: String, Sendable, Hashable, CaseIterable {
    case hidden                 // name starts with "." (folders count once, not their contents)
    case unsupportedExtension   // not a format Ingest reads
    case excluded               // matched an --exclude glob
    case notIncluded            // matched no --include glob
    case symlinkOutsideRoot     // symbolic link leading out of the root
    case brokenSymlink
    case duplicate              // same file reached twice (hard link, or link inside the root)
    case notRegularFile         // socket, FIFO, device
    case tooLarge               // also reported in `problems`
    case unreadable             // also reported in `problems`
}

/// A path left out for a reason the user may not expect (a link, a loop, a socket or device).
public struct SkippedFile: Sendable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

public struct ScanResult: Sendable, Equatable {
    /// Files to ingest, sorted by relative path.
    public var files: [SourceFile] = []
    public var skipped: [SkipReason: Int] = [:]
    /// Unsupported files by lower-cased extension ("" for none), e.g. ["png": 12].
    public var skippedExtensions: [String: Int] = [:]
    /// Paths the user should hear about: folders that could not be read, files over the size limit.
    public var problems: [IngestError] = []
    /// Each symbolic link, link loop and special file left out, by relative path (the counts above include them).
    public var skippedFiles: [SkippedFile] = []

    public var skippedCount: Int { skipped.values.reduce(0, +) }
}

/// Walks a folder recursively. Symbolic links are followed only while they stay inside the root;
/// each file is listed once even if links or hard links reach it twice.
public struct FolderScanner: Sendable {
    public let root: URL
    public let options: ScanOptions

    public init(root: URL, options: ScanOptions = ScanOptions()) {
        self.root = root
        self.options = options
    }

    private struct Candidate {
        let file: SourceFile
        let identity: FileIdentity
        let viaLink: Bool
    }

    private struct FileIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    public func scan() throws(IngestError) -> ScanResult {
        guard let rootPath = canonicalPath(root.path), let rootStatus = FileStatus(path: rootPath) else {
            throw IngestError(path: root.path, kind: .unreadable, reason: "folder not found")
        }
        var result = ScanResult()
        var candidates: [Candidate] = []

        if rootStatus.type == .regular {  // a single file given as the root
            consider(path: rootPath, relative: URL(fileURLWithPath: rootPath).lastPathComponent,
                     status: rootStatus, viaLink: false, into: &candidates, result: &result)
            return finish(candidates, result)
        }
        guard rootStatus.type == .directory else {
            throw IngestError(path: root.path, kind: .unreadable, reason: "not a folder or regular file")
        }

        var visitedFolders: Set<FileIdentity> = []
        // Folders reached through links are walked after all real folders, so that a file reachable
        // both ways is listed under its real path.
        var pending: [(path: String, relative: String, viaLink: Bool)] = [(rootPath, "", false)]
        var linkedFolders: [(path: String, relative: String, viaLink: Bool)] = []
        while let (folder, folderRelative, folderViaLink) = pending.popLast() ?? linkedFolders.popLast() {
            guard let status = FileStatus(path: folder),
                  visitedFolders.insert(FileIdentity(device: status.device, inode: status.inode)).inserted else {
                result.skipped[.duplicate, default: 0] += 1  // reached before (a link loop, or twice)
                if folderViaLink {
                    result.skippedFiles.append(SkippedFile(path: folderRelative, reason: "symbolic link to a folder already read (a link loop, or a second path to it)"))
                }
                continue
            }
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
            } catch {
                let shown = folderRelative.isEmpty ? root.path : folderRelative
                result.problems.append(IngestError(path: shown, kind: .unreadable,
                                                   reason: "cannot list folder: \(error.localizedDescription)"))
                result.skipped[.unreadable, default: 0] += 1
                continue
            }
            var subfolders: [(path: String, relative: String, viaLink: Bool)] = []
            for name in names {
                if name.hasPrefix(".") && !options.includeHidden {
                    result.skipped[.hidden, default: 0] += 1
                    continue
                }
                let path = folder + "/" + name
                let relative = folderRelative.isEmpty ? name : folderRelative + "/" + name
                guard var status = FileStatus(path: path, followLinks: false) else {
                    result.skipped[.unreadable, default: 0] += 1
                    result.problems.append(IngestError(path: relative, kind: .unreadable, reason: "cannot stat"))
                    continue
                }
                var viaLink = folderViaLink
                if status.type == .symlink {
                    guard let target = canonicalPath(path), let targetStatus = FileStatus(path: target) else {
                        result.skipped[.brokenSymlink, default: 0] += 1
                        result.skippedFiles.append(SkippedFile(path: relative, reason: "broken symbolic link"))
                        continue
                    }
                    guard target == rootPath || target.hasPrefix(rootPath == "/" ? "/" : rootPath + "/") else {
                        result.skipped[.symlinkOutsideRoot, default: 0] += 1
                        result.skippedFiles.append(SkippedFile(path: relative, reason: "symbolic link to \(target), outside the folder"))
                        continue
                    }
                    status = targetStatus
                    viaLink = true
                }
                switch status.type {
                case .directory:
                    if options.exclude.contains(where: { $0.matches(relative) }) {
                        result.skipped[.excluded, default: 0] += 1
                        continue
                    }
                    if viaLink {
                        linkedFolders.insert((path, relative, true), at: 0)
                    } else {
                        subfolders.append((path, relative, false))
                    }
                case .regular:
                    consider(path: path, relative: relative, status: status, viaLink: viaLink,
                             into: &candidates, result: &result)
                case .symlink, .other:
                    result.skipped[.notRegularFile, default: 0] += 1
                    result.skippedFiles.append(SkippedFile(path: relative, reason: "not a regular file (socket, FIFO or device)"))
                }
            }
            pending.append(contentsOf: subfolders.reversed())
        }
        return finish(candidates, result)
    }

    private func consider(path: String, relative: String, status: FileStatus, viaLink: Bool,
                          into candidates: inout [Candidate], result: inout ScanResult) {
        if options.exclude.contains(where: { $0.matches(relative) }) {
            result.skipped[.excluded, default: 0] += 1
            return
        }
        if !options.include.isEmpty && !options.include.contains(where: { $0.matches(relative) }) {
            result.skipped[.notIncluded, default: 0] += 1
            return
        }
        let ext = (relative as NSString).pathExtension.lowercased()
        guard let kind = FileKind.forExtension(ext) else {
            result.skipped[.unsupportedExtension, default: 0] += 1
            result.skippedExtensions[ext, default: 0] += 1
            return
        }
        if status.size > options.maxFileSize {
            result.skipped[.tooLarge, default: 0] += 1
            result.problems.append(IngestError(path: relative, kind: .tooLarge,
                reason: "file too large (\(status.size) bytes, limit \(options.maxFileSize))"))
            return
        }
        let file = SourceFile(relativePath: relative, url: URL(fileURLWithPath: path), size: status.size,
                              mtimeNanoseconds: status.mtimeNanoseconds, kind: kind)
        candidates.append(Candidate(file: file, identity: FileIdentity(device: status.device, inode: status.inode),
                                    viaLink: viaLink))
    }

    /// Keeps one path per file (preferring a real path over a link), sorted by relative path.
    private func finish(_ candidates: [Candidate], _ partial: ScanResult) -> ScanResult {
        var result = partial
        var chosen: [FileIdentity: Candidate] = [:]
        for candidate in candidates {
            if let kept = chosen[candidate.identity] {
                result.skipped[.duplicate, default: 0] += 1
                if kept.viaLink && !candidate.viaLink { chosen[candidate.identity] = candidate }
            } else {
                chosen[candidate.identity] = candidate
            }
        }
        result.files = chosen.values.map(\.file).sorted { $0.relativePath < $1.relativePath }
        return result
    }
}
