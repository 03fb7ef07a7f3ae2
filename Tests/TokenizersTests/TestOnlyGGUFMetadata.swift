import Foundation

// TEST-ONLY: a minimal GGUF metadata reader (header + key/values, no tensors) so the BPE parity
// test can read SmolLM2's vocabulary without the Tokenizers module depending on Tensor. The lead
// replaces it by the Tensor module's GGUF reader when the branches meet.
struct TestOnlyGGUFMetadata {
    enum Value {
        case int(Int64), float(Double), bool(Bool), string(String), array([Value])
        var int: Int? { if case let .int(v) = self { return Int(v) }; return nil }
        var string: String? { if case let .string(v) = self { return v }; return nil }
        var strings: [String]? { if case let .array(a) = self { return a.compactMap(\.string) }; return nil }
        var ints: [Int]? { if case let .array(a) = self { return a.compactMap(\.int) }; return nil }
    }
    struct Failure: Error, CustomStringConvertible { let description: String }

    private(set) var values: [String: Value] = [:]
    private let data: Data
    private var offset = 0

    init(url: URL) throws {
        data = try Data(contentsOf: url, options: .alwaysMapped)
        guard try bytes(4) == Array("GGUF".utf8) else { throw Failure(description: "\(url.path): not a GGUF file") }
        let version = try integer(UInt32.self)
        guard version >= 2 else { throw Failure(description: "\(url.path): GGUF version \(version) unsupported") }
        _ = try integer(UInt64.self)  // tensor count
        let count = try integer(UInt64.self)
        for _ in 0..<count {
            let key = try string()
            values[key] = try value(type: try integer(UInt32.self))
        }
    }

    private mutating func bytes(_ n: Int) throws -> [UInt8] {
        guard n >= 0, offset + n <= data.count else { throw Failure(description: "GGUF truncated at byte \(offset)") }
        defer { offset += n }
        return [UInt8](data[(data.startIndex + offset)..<(data.startIndex + offset + n)])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let raw = try bytes(MemoryLayout<T>.size)
        return raw.reversed().reduce(T(0)) { $0 << 8 | T($1) }  // little-endian
    }

    private mutating func string() throws -> String {
        String(decoding: try bytes(Int(try integer(UInt64.self))), as: UTF8.self)
    }

    private mutating func value(type: UInt32) throws -> Value {
        switch type {
        case 0: return .int(Int64(try integer(UInt8.self)))
        case 1: return .int(Int64(try integer(Int8.self)))
        case 2: return .int(Int64(try integer(UInt16.self)))
        case 3: return .int(Int64(try integer(Int16.self)))
        case 4: return .int(Int64(try integer(UInt32.self)))
        case 5: return .int(Int64(try integer(Int32.self)))
        case 6: return .float(Double(Float(bitPattern: try integer(UInt32.self))))
        case 7: return .bool(try integer(UInt8.self) != 0)
        case 8: return .string(try string())
        case 9:
            let itemType = try integer(UInt32.self)
            let count = try integer(UInt64.self)
            var items: [Value] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count { items.append(try value(type: itemType)) }
            return .array(items)
        case 10: return .int(Int64(bitPattern: try integer(UInt64.self)))
        case 11: return .int(try integer(Int64.self))
        case 12: return .float(Double(bitPattern: try integer(UInt64.self)))
        default: throw Failure(description: "GGUF value type \(type) unknown at byte \(offset)")
        }
    }
}
