#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads a file in fixed-size blocks with POSIX calls, so large files never sit whole in memory.
/// Errors name the file and the system's reason.
final class BlockReader {
    let path: String
    private let fd: Int32
    private let blockSize: Int

    init(url: URL, blockSize: Int = 1 << 20) throws(IngestError) {
        path = url.path
        self.blockSize = blockSize
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw IngestError(path: path, kind: .unreadable, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// The next block (up to `blockSize` bytes), or nil at the end of the file.
    func next() throws(IngestError) -> [UInt8]? {
        var block = [UInt8](repeating: 0, count: blockSize)
        var filled = 0
        while filled < blockSize {
            let n = block.withUnsafeMutableBytes { buf in
                read(fd, buf.baseAddress! + filled, blockSize - filled)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw IngestError(path: path, kind: .unreadable, reason: "read error: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        if filled == 0 { return nil }
        if filled < blockSize { block.removeSubrange(filled...) }
        return block
    }
}
