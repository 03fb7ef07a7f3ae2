// Metadata values of a GGUF file (type ids 0-12 of the format) and typed accessors that accept
// any integer / float width, so callers need not know how a converter chose to store a field.

public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// Elements all of one type (arrays may nest).
    case array([GGUFValue])

    /// The value as an Int when it is an integer of any width that fits.
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value as a Double when it is a float or an integer.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var array: [GGUFValue]? { if case .array(let a) = self { return a } else { return nil } }
}

/// Typed look-ups on a GGUF metadata map; nil when the key is absent or of another kind.
public protocol GGUFMetadataReading {
    var metadata: [String: GGUFValue] { get }
}

extension GGUFMetadataReading {
    public func string(_ key: String) -> String? { metadata[key]?.string }
    public func int(_ key: String) -> Int? { metadata[key]?.int }
    public func float(_ key: String) -> Float? { metadata[key]?.double.map(Float.init) }
    public func double(_ key: String) -> Double? { metadata[key]?.double }
    public func bool(_ key: String) -> Bool? { metadata[key]?.bool }

    /// All elements must be of the asked kind, else nil.
    public func stringArray(_ key: String) -> [String]? { elements(key) { $0.string } }
    public func intArray(_ key: String) -> [Int]? { elements(key) { $0.int } }
    public func floatArray(_ key: String) -> [Float]? { elements(key) { $0.double.map(Float.init) } }

    private func elements<T>(_ key: String, _ convert: (GGUFValue) -> T?) -> [T]? {
        guard let items = metadata[key]?.array else { return nil }
        var out: [T] = []
        out.reserveCapacity(items.count)
        for item in items {
            guard let v = convert(item) else { return nil }
            out.append(v)
        }
        return out
    }
}
