// Reading the safetensors format (Hugging Face): u64 little-endian header length N, N bytes of
// JSON `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {"key": "value"}}`, then the data; offsets are relative to the end of the header.
// The file is memory-mapped; aligned F32 tensors borrow the mapping, F16/BF16 are converted.

import Foundation

/// Element types of the safetensors format, with their sizes.
public enum SafeTensorsDType: Equatable, Sendable, CustomStringConvertible {
    case f32, f16, bf16
    /// Any other type the format names (I64, U8, F64, F8_E4M3, ...): sized, listed, not converted.
    case other(String, bytes: Int)
    /// A dtype string this reader does not know at all.
    case unknown(String)

    init(_ name: String) {
        switch name {
        case "F32": self = .f32
        case "F16": self = .f16
        case "BF16": self = .bf16
        case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "F8_E8M0": self = .other(name, bytes: 1)
        case "I16", "U16": self = .other(name, bytes: 2)
        case "I32", "U32": self = .other(name, bytes: 4)
        case "I64", "U64", "F64", "C64": self = .other(name, bytes: 8)
        default: self = .unknown(name)
        }
    }

    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .other(let name, _), .unknown(let name): return name
        }
    }

    /// The same float encoding in ggml terms (F32, F16, BF16); nil for types not read as floats.
    var floatType: GGMLType? {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        default: return nil
        }
    }

    /// Bytes per element, nil when unknown.
    public var byteSize: Int? {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        case .other(_, let bytes): return bytes
        case .unknown: return nil
        }
    }
}

public final class SafeTensorsFile: @unchecked Sendable {
    public struct Entry: Sendable {
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        /// Absolute byte range in the file.
        public let byteRange: Range<Int>
    }

    public let url: URL
    /// Tensor names in file order of their data.
    public let names: [String]
    /// The `__metadata__` string map (empty when absent).
    public let metadata: [String: String]
    private let entries: [String: Entry]
    private let file: MappedFile

    public init(url: URL) throws {
        self.url = url
        file = try MappedFile(url: url)
        var reader = ByteReader(file)
        let headerLength = try reader.readCount("header length", limit: file.byteCount)
        guard headerLength <= reader.remaining else {
            throw file.error("header length \(headerLength) runs past the end of the file (\(file.byteCount) bytes)")
        }
        let headerBytes = try reader.take(headerLength, "JSON header")
        let dataStart = reader.position
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes: headerBytes, count: headerLength))
        } catch {
            throw file.error("header is not valid JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else { throw file.error("header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw file.error("__metadata__ is not an object") }
                for (k, v) in map {
                    guard let s = v as? String else { throw file.error("__metadata__ value of '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries[name] = try Self.parseEntry(name, value, dataStart: dataStart, file: file)
        }
        self.metadata = metadata
        self.entries = entries
        names = entries.sorted { ($0.value.byteRange.lowerBound, $0.key) < ($1.value.byteRange.lowerBound, $1.key) }.map(\.key)
    }

    private static func parseEntry(_ name: String, _ value: Any, dataStart: Int, file: MappedFile) throws -> Entry {
        func fail(_ why: String) -> TensorError { file.error("tensor '\(name)': \(why)") }
        guard let fields = value as? [String: Any] else { throw fail("entry is not an object") }
        guard let dtypeName = fields["dtype"] as? String else { throw fail("missing dtype") }
        guard let shapeValues = fields["shape"] as? [Any] else { throw fail("missing shape") }
        guard let offsetValues = fields["data_offsets"] as? [Any], offsetValues.count == 2 else {
            throw fail("data_offsets must be [begin, end]")
        }
        let shape = try shapeValues.map { v -> Int in
            guard let n = jsonInt(v), n >= 0 else { throw fail("shape \(shapeValues) is not a list of non-negative integers") }
            return n
        }
        guard let begin = jsonInt(offsetValues[0]), let end = jsonInt(offsetValues[1]), begin >= 0, begin <= end else {
            throw fail("data_offsets \(offsetValues) are not increasing non-negative integers")
        }
        guard end <= file.byteCount - dataStart else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the file (\(file.byteCount - dataStart) data bytes)")
        }
        let dtype = SafeTensorsDType(dtypeName)
        if let size = dtype.byteSize {
            var count = 1
            for d in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("shape \(shape) overflows") }
                count = product
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow, bytes == end - begin else {
                throw fail("shape \(shape) of \(dtype) needs \(count) × \(size) bytes but data_offsets span \(end - begin)")
            }
        }
        return Entry(dtype: dtype, shape: shape, byteRange: (dataStart + begin)..<(dataStart + end))
    }

    /// dtype and shape of a tensor, nil when the file has no such name.
    public func info(_ name: String) -> (dtype: SafeTensorsDType, shape: [Int])? {
        entries[name].map { ($0.dtype, $0.shape) }
    }

    public func entry(_ name: String) -> Entry? { entries[name] }

    /// The tensor as Float32: F32 borrows the mapping when 4-byte aligned (copy-on-write: writing
    /// it never changes the file), F16/BF16 are converted into a new buffer.
    public func tensor(_ name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw file.error("no tensor named '\(name)'") }
        guard let type = entry.dtype.floatType else {
            throw file.error("tensor '\(name)': dtype \(entry.dtype) cannot be read as Float32 (F32, F16, BF16 supported)")
        }
        let count = Tensor.elementCount(entry.shape)  // checked against the byte range at open
        guard let raw = file.bytes(at: entry.byteRange.lowerBound, count: entry.byteRange.count) else {
            throw file.error("tensor '\(name)': data out of range")
        }
        if entry.dtype == .f32, let borrowed = file.borrowedFloats(raw, shape: entry.shape) { return borrowed }
        let storage = TensorStorage(count: count)
        GGMLDecoder.decode(type, from: UnsafeRawPointer(raw), into: storage.base, count: count)
        return Tensor(storage: storage, shape: entry.shape)
    }
}

/// An integer from a JSONSerialization value (NSNumber without fraction), nil otherwise.
func jsonInt(_ value: Any) -> Int? {
    guard let n = value as? NSNumber else { return nil }
    let d = n.doubleValue
    guard d.rounded() == d, abs(d) < 9.0e15 else { return nil }
    return n.intValue
}
