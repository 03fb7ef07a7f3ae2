import Foundation

struct EmbeddingRequest: Decodable, Sendable {
    var model: String?
    var input: PromptField
    var encodingFormat: String?
    enum CodingKeys: String, CodingKey { case model, input, encodingFormat = "encoding_format" }
}

struct EmbeddingList: Encodable, Sendable {
    enum Vector: Encodable, Sendable {
        case float([Float])
        case base64(String)
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .float(let v): try c.encode(v)
            case .base64(let s): try c.encode(s)
            }
        }
    }
    struct Item: Encodable, Sendable {
        var object = "embedding"
        var index: Int
        var embedding: Vector
    }
    var object = "list"
    var data: [Item]
    var model: String
    var usage: UsageBody

    /// Little-endian Float32 bytes, base64: what the openai client decodes with numpy.frombuffer.
    static func base64(_ v: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(v.count * 4)
        for x in v { withUnsafeBytes(of: x.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}

struct ModelList: Encodable, Sendable {
    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "rag"
        /// Extra: generator, adapter or embedder.
        var kind: String
        var contextLength: Int?
        var dimension: Int?
        enum CodingKeys: String, CodingKey {
            case id, object, created, kind, dimension
            case ownedBy = "owned_by", contextLength = "context_length"
        }
    }
    var object = "list"
    var data: [Model]
}
