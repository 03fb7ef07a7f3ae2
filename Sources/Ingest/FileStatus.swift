#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `lstat`/`stat` of one path, reduced to what the scanner needs.
struct FileStatus {
    enum FileType { case regular, directory, symlink, other }

    let type: FileType
    let size: Int64
    let mtimeNanoseconds: Int64
    let device: UInt64
    let inode: UInt64

    /// `followLinks: false` describes a symbolic link itself (lstat).
    init?(path: String, followLinks: Bool = true) {
        var st = stat()
        let rc = followLinks ? stat(path, &st) : lstat(path, &st)
        guard rc == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG: type = .regular
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        default: type = .other
        }
        size = Int64(st.st_size)
        #if canImport(Darwin)
        mtimeNanoseconds = Int64(st.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(st.st_mtimespec.tv_nsec)
        #else
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        #endif
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}

/// The canonical absolute path (symlinks resolved), or nil if it does not exist.
func canonicalPath(_ path: String) -> String? {
    guard let resolved = realpath(path, nil) else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
}
