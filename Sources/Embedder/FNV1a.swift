/// FNV-1a, 64-bit (Fowler–Noll–Vo): a fast, stable hash that tells files and data sets apart
/// (a model's identity, a checkpoint's training pairs). Not for security.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325   // offset basis

    mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }   // FNV prime
    }
}
