// A whole checkpoint file mapped into memory, copy-on-write (MAP_PRIVATE, read + write), so tensors
// can borrow their bytes without a copy and may even be written to without touching the file.
// The mapping lives as long as any tensor storage that borrows from it (it is their `owner`).

import Foundation

public final class MappedFile: @unchecked Sendable {
    public let url: URL
    public let byteCount: Int
    /// Start of the mapping (page aligned). Nil for an empty file.
    let base: UnsafeMutableRawPointer?

    public init(url: URL) throws {
        self.url = url
        let path = url.path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TensorError.checkpoint("\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TensorError.checkpoint("\(path): cannot stat (\(String(cString: strerror(errno))))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw TensorError.checkpoint("\(path): not a regular file") }
        byteCount = Int(st.st_size)
        if byteCount == 0 {
            base = nil
            return
        }
        let p = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw TensorError.checkpoint("\(path): cannot map \(byteCount) bytes (\(String(cString: strerror(errno))))")
        }
        base = p
    }

    deinit {
        if let base { munmap(base, byteCount) }
    }

    /// A pointer to `count` bytes at `offset`, or nil when the range does not lie inside the file.
    func bytes(at offset: Int, count: Int) -> UnsafeMutableRawPointer? {
        guard let base, offset >= 0, count >= 0, offset <= byteCount, count <= byteCount - offset else { return nil }
        return base + offset
    }

    /// A tensor viewing Float32 values at `raw` inside this mapping (which becomes the storage's
    /// owner), or nil when `raw` is not 4-byte aligned or the tensor is empty (callers copy then).
    func borrowedFloats(_ raw: UnsafeMutableRawPointer, shape: [Int]) -> Tensor? {
        let count = Tensor.elementCount(shape)
        guard count > 0, Int(bitPattern: raw) % MemoryLayout<Float>.alignment == 0 else { return nil }
        let p = raw.bindMemory(to: Float.self, capacity: count)
        return Tensor(storage: TensorStorage(borrowing: p, count: count, owner: self), shape: shape)
    }

    func error(_ message: String) -> TensorError { .checkpoint("\(url.path): \(message)") }
}

/// Reads little-endian fields from a mapped file front to back, never past its end.
struct ByteReader {
    let file: MappedFile
    var position: Int

    init(_ file: MappedFile, at position: Int = 0) {
        self.file = file
        self.position = position
    }

    var remaining: Int { file.byteCount - position }

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawPointer {
        guard let p = file.bytes(at: position, count: count) else {
            throw file.error("truncated: \(what()) needs \(count) bytes at offset \(position), file has \(file.byteCount)")
        }
        position += count
        return UnsafeRawPointer(p)
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let p = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: p.loadUnaligned(as: T.self))
    }

    /// A u64 that must also fit a non-negative Int no larger than `limit`.
    mutating func readCount(_ what: @autoclosure () -> String, limit: Int) throws -> Int {
        let v = try read(UInt64.self, what())
        guard v <= UInt64(limit) else { throw file.error("\(what()) = \(v) is impossible for a file of \(file.byteCount) bytes") }
        return Int(v)
    }
}
