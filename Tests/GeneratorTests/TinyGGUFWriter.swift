// Writes small GGUF v3 files for tests: metadata of a few kinds and tensors given as Float32
// values (stored F32) or as raw bytes of any ggml type (to test types we refuse).

import Foundation

struct TinyGGUFWriter {
    enum Value {
        case string(String), uint32(UInt32), float32(Float), bool(Bool), strings([String]), int32s([Int32])
    }

    private var metadata: [(String, Value)] = []
    private var tensors: [(name: String, dims: [Int], type: UInt32, bytes: [UInt8])] = []

    mutating func set(_ key: String, _ value: Value) { metadata.append((key, value)) }

    /// A Float32 tensor of row-major `shape` (GGUF stores the dimensions reversed).
    mutating func add(_ name: String, shape: [Int], values: [Float]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        tensors.append((name, shape.reversed(), 0, bytes))
    }

    /// A tensor of ggml type id `type` with the given raw bytes.
    mutating func addRaw(_ name: String, shape: [Int], type: UInt32, bytes: [UInt8]) {
        tensors.append((name, shape.reversed(), type, bytes))
    }

    func data() -> Data {
        var out = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { u64(s.utf8.count); out.append(contentsOf: Array(s.utf8)) }
        out.append(contentsOf: Array("GGUF".utf8))
        u32(3)
        u64(tensors.count)
        u64(metadata.count)
        for (key, value) in metadata {
            string(key)
            switch value {
            case .string(let s): u32(8); string(s)
            case .uint32(let v): u32(4); u32(v)
            case .float32(let f): u32(6); u32(f.bitPattern)
            case .bool(let b): u32(7); out.append(b ? 1 : 0)
            case .strings(let a): u32(9); u32(8); u64(a.count); a.forEach(string)
            case .int32s(let a): u32(9); u32(5); u64(a.count); a.forEach { u32(UInt32(bitPattern: $0)) }
            }
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.bytes.count + 31) / 32 * 32
        }
        for (t, o) in zip(tensors, offsets) {
            string(t.name)
            u32(UInt32(t.dims.count))
            t.dims.forEach(u64)
            u32(t.type)
            u64(o)
        }
        while out.count % 32 != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.bytes)
            while out.count % 32 != 0 { out.append(0) }
        }
        return out
    }

    func write(to url: URL) throws { try data().write(to: url) }
}
