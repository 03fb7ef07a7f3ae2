// Reading GGUF files (llama.cpp / Ollama), versions 2 and 3, memory-mapped. Layout, little-endian:
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count
//   kv_count × (string key, u32 value_type, value)        string = u64 length + UTF-8 bytes
//   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   padding to `general.alignment` (default 32), then the data section; offsets are relative to it.
// ne[0] is the fastest-varying dimension, so a weight with ne = [cols, rows] is row-major [rows, cols].

import CKernels
import Foundation

public struct GGUFTensorInfo: Sendable {
    public let name: String
    /// Dimensions in GGUF order (ne[0] first: the contiguous one).
    public let dimensions: [Int]
    public let type: GGMLType
    /// Byte offset of the data, relative to the start of the data section.
    public let offset: Int
    /// Bytes of data; nil when the type is not one ggml defines.
    public let byteCount: Int?

    /// Row-major shape (GGUF dimensions reversed), e.g. [rows, cols] for a matrix.
    public var shape: [Int] { dimensions.reversed() }
    public var cols: Int { dimensions.first ?? 1 }
    /// Product of every dimension but the first.
    public var rows: Int { dimensions.dropFirst().reduce(1, *) }
    public var elementCount: Int { dimensions.reduce(1, *) }
}

public final class GGUFFile: GGUFMetadataReading, @unchecked Sendable {
    public let url: URL
    public let version: Int
    public let metadata: [String: GGUFValue]
    /// In file order.
    public let tensorInfos: [GGUFTensorInfo]
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let byName: [String: Int]
    let file: MappedFile

    public init(url: URL) throws {
        self.url = url
        let file = try MappedFile(url: url)
        self.file = file
        var reader = ByteReader(file)
        let magic = try reader.read(UInt32.self, "magic")
        guard magic == 0x4655_4747 else {  // "GGUF" read as a little-endian u32
            throw file.error("not a GGUF file (magic \(String(format: "0x%08x", magic)))")
        }
        let version = try reader.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            throw file.error("GGUF version \(version) is not supported (2 and 3 are)")
        }
        self.version = Int(version)
        // Every kv needs at least 12 bytes and every tensor info 24, which bounds the counts.
        let tensorCount = try reader.readCount("tensor_count", limit: file.byteCount / 24)
        let kvCount = try reader.readCount("kv_count", limit: file.byteCount / 12)

        var metadata: [String: GGUFValue] = [:]
        for i in 0..<kvCount {
            let key = try Self.readString(&reader, "key of metadata entry \(i)")
            let type = try reader.read(UInt32.self, "type of '\(key)'")
            metadata[key] = try Self.readValue(&reader, type: type, key: key, depth: 0)
        }
        self.metadata = metadata

        let alignment = metadata["general.alignment"].map { $0.int ?? 0 } ?? 32
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw file.error("general.alignment \(String(describing: metadata["general.alignment"])) is not a power of two")
        }
        self.alignment = alignment

        var infos: [GGUFTensorInfo] = []
        var byName: [String: Int] = [:]
        for i in 0..<tensorCount {
            let info = try Self.readTensorInfo(&reader, index: i)
            guard byName[info.name] == nil else { throw file.error("tensor '\(info.name)' appears twice") }
            byName[info.name] = infos.count
            infos.append(info)
        }
        let dataOffset = (reader.position + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        for info in infos {
            guard info.offset % alignment == 0 else {
                throw file.error("tensor '\(info.name)': offset \(info.offset) is not a multiple of the alignment \(alignment)")
            }
            if let bytes = info.byteCount, file.bytes(at: dataOffset + info.offset, count: bytes) == nil {
                throw file.error("tensor '\(info.name)': \(bytes) bytes at data offset \(info.offset) run past the end of the file (\(file.byteCount) bytes)")
            }
        }
        tensorInfos = infos
        self.byName = byName
    }

    public func info(_ name: String) -> GGUFTensorInfo? { byName[name].map { tensorInfos[$0] } }

    /// The tensor as Float32 in row-major shape: F32 borrows the mapping (copy-on-write), other
    /// decodable types (F16, BF16, Q8_0, Q4_0, Q4_1, Q4_K, Q6_K) are dequantized into a new buffer.
    public func tensor(_ name: String) throws -> Tensor {
        let (info, raw) = try located(name)
        let count = info.elementCount
        if info.type == .f32, let borrowed = file.borrowedFloats(raw, shape: info.shape) { return borrowed }
        let storage = TensorStorage(count: count)
        GGMLDecoder.decode(info.type, from: UnsafeRawPointer(raw), into: storage.base, count: count)  // type checked by located()
        return Tensor(storage: storage, shape: info.shape)
    }

    /// The weight as a matrix that stays in its quantized blocks: [rows, cols] = the row-major shape
    /// with all leading dimensions folded into rows.
    public func matrix(_ name: String) throws -> QuantizedMatrix {
        let (info, raw) = try located(name)
        guard info.rows <= Int(Int32.max), info.cols <= Int(Int32.max) else {
            throw file.error("tensor '\(name)': [\(info.rows), \(info.cols)] is too large for a matrix")
        }
        return QuantizedMatrix(name: name, type: info.type, rows: info.rows, cols: info.cols, blocks: UnsafeRawPointer(raw), owner: file)
    }

    /// The tensor's info and data pointer, after checking its type can be decoded.
    private func located(_ name: String) throws -> (GGUFTensorInfo, UnsafeMutableRawPointer) {
        guard let info = info(name) else { throw file.error("no tensor named '\(name)'") }
        guard info.type.isDecodable else {
            let supported = GGMLType.decodable.map(\.name).sorted().joined(separator: ", ")
            throw file.error("tensor '\(name)' has type \(info.type.name), which is not supported (supported: \(supported))")
        }
        guard let bytes = info.byteCount, let raw = file.bytes(at: dataOffset + info.offset, count: bytes) else {
            throw file.error("tensor '\(name)': data out of range")
        }
        return (info, raw)
    }

    // MARK: - parsing

    private static func readString(_ reader: inout ByteReader, _ what: @autoclosure () -> String) throws -> String {
        let length = try reader.readCount("length of \(what())", limit: reader.remaining)
        let p = try reader.take(length, what())
        return String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self)
    }

    private static func readValue(_ reader: inout ByteReader, type: UInt32, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case 0: return .uint8(try reader.read(UInt8.self, what))
        case 1: return .int8(try reader.read(Int8.self, what))
        case 2: return .uint16(try reader.read(UInt16.self, what))
        case 3: return .int16(try reader.read(Int16.self, what))
        case 4: return .uint32(try reader.read(UInt32.self, what))
        case 5: return .int32(try reader.read(Int32.self, what))
        case 6: return .float32(Float(bitPattern: try reader.read(UInt32.self, what)))
        case 7:
            let b = try reader.read(UInt8.self, what)
            guard b <= 1 else { throw reader.file.error("'\(key)': bool byte is \(b)") }
            return .bool(b == 1)
        case 8: return .string(try readString(&reader, what))
        case 9:
            guard depth < 8 else { throw reader.file.error("'\(key)': arrays nested more than 8 deep") }
            let elementType = try reader.read(UInt32.self, "element type of '\(key)'")
            guard let minSize = minimumSize(elementType) else {
                throw reader.file.error("'\(key)': unknown array element type \(elementType)")
            }
            let count = try reader.readCount("length of '\(key)'", limit: reader.remaining / minSize)
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try readValue(&reader, type: elementType, key: key, depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try reader.read(UInt64.self, what))
        case 11: return .int64(try reader.read(Int64.self, what))
        case 12: return .float64(Double(bitPattern: try reader.read(UInt64.self, what)))
        default: throw reader.file.error("'\(key)': unknown value type \(type)")
        }
    }

    /// Fewest bytes one value of a type can take (nil: not a type of the format).
    private static func minimumSize(_ type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return nil
        }
    }

    private static func readTensorInfo(_ reader: inout ByteReader, index: Int) throws -> GGUFTensorInfo {
        let name = try readString(&reader, "name of tensor \(index)")
        let file = reader.file
        let nDims = try reader.read(UInt32.self, "dimension count of '\(name)'")
        guard nDims >= 1, nDims <= 4 else { throw file.error("tensor '\(name)': \(nDims) dimensions (1 to 4 allowed)") }
        var dims: [Int] = []
        for d in 0..<Int(nDims) {
            dims.append(try reader.readCount("dimension \(d) of '\(name)'", limit: Int(Int32.max)))
        }
        // The product of the non-zero dimensions bounds every partial product (rows, counts), so
        // checking it once keeps all of them far from overflow.
        var magnitude = 1
        for n in dims where n > 0 {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: n)
            guard !overflow, product < 1 << 56 else { throw file.error("tensor '\(name)': dimensions \(dims) are too large") }
            magnitude = product
        }
        let count = dims.contains(0) ? 0 : magnitude
        let type = GGMLType(id: try reader.read(UInt32.self, "type of '\(name)'"))
        let offset = try reader.readCount("offset of '\(name)'", limit: file.byteCount)
        var byteCount: Int?
        if let blockSize = type.blockSize, let blockBytes = type.blockBytes {
            guard dims[0] % blockSize == 0 else {
                throw file.error("tensor '\(name)': first dimension \(dims[0]) is not a multiple of the \(type.name) block size \(blockSize)")
            }
            byteCount = count / blockSize * blockBytes
        }
        return GGUFTensorInfo(name: name, dimensions: dims, type: type, offset: offset, byteCount: byteCount)
    }
}
