import Foundation

/// Content hashes for change detection: the pipeline compares them with what the store holds.
public enum ContentHash {
    /// Lower-case hex SHA-256 of the file, read in 1 MB blocks (memory stays flat for any size).
    public static func sha256(of url: URL) throws(IngestError) -> String {
        let reader = try BlockReader(url: url)
        var hasher = SHA256()
        while let block = try reader.next() { block.withUnsafeBytes { hasher.update($0) } }
        return hex(hasher.finalize())
    }

    /// Lower-case hex SHA-256 of bytes in memory.
    public static func sha256<C: Collection>(of bytes: C) -> String where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hex(hasher.finalize())
    }

    public static func sha256(of string: String) -> String { sha256(of: Array(string.utf8)) }

    private static func hex(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(digest.count * 2)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
