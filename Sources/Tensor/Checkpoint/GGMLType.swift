// Tensor element types of ggml / GGUF: id, name and block geometry (values per block, bytes per
// block). Every type ggml defines is sized so a file's layout can be checked; only some decode.

public struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    public let id: UInt32

    public init(id: UInt32) { self.id = id }

    public static let f32 = GGMLType(id: 0)
    public static let f16 = GGMLType(id: 1)
    public static let q4_0 = GGMLType(id: 2)
    public static let q4_1 = GGMLType(id: 3)
    public static let q8_0 = GGMLType(id: 8)
    public static let q4_K = GGMLType(id: 12)
    public static let q6_K = GGMLType(id: 14)
    public static let bf16 = GGMLType(id: 30)

    /// (name, values per block, bytes per block) of every type ggml defines.
    private static let table: [UInt32: (String, Int, Int)] = [
        0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20),
        6: ("Q5_0", 32, 22), 7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 36),
        10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176),
        14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74),
        18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110),
        22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2),
        26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56),
        30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17),
    ]

    /// Types this module turns into Float32.
    public static let decodable: Set<GGMLType> = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]

    public var name: String { Self.table[id]?.0 ?? "type \(id)" }
    public var description: String { name }
    /// Values per block, nil for an id ggml does not define.
    public var blockSize: Int? { Self.table[id]?.1 }
    /// Bytes per block, nil for an id ggml does not define.
    public var blockBytes: Int? { Self.table[id]?.2 }
    public var isDecodable: Bool { Self.decodable.contains(self) }
}
