import Foundation
import Hummingbird

/// The server's one JSON configuration: ISO 8601 dates, unescaped slashes, and decoding errors
/// turned into 400s that name the field at fault.
enum JSONCoding {
    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return e
    }

    static func encode(_ value: some Encodable) -> Data {
        // Encoding our own response types cannot fail except for non-finite doubles, which
        // Foundation refuses; fall back to a server error body rather than crash.
        (try? encoder().encode(value)) ?? Data(#"{"error":{"message":"response encoding failed","type":"server_error","param":null,"code":null}}"#.utf8)
    }

    static func buffer(_ value: some Encodable) -> ByteBuffer {
        ByteBuffer(bytes: encode(value))
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer(value)))
    }

    /// Decodes a request body; malformed JSON and wrong or missing fields become 400s naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer.readableBytesView)
        if data.isEmpty { throw APIError.invalidRequest("The request body is empty; a JSON object was expected.") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw apiError(from: error)
        } catch let error as APIError {
            throw error
        }
    }

    static func apiError(from error: DecodingError) -> APIError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let ctx):
            let field = path(ctx.codingPath + [key])
            return .invalidRequest("Missing required field '\(field)'.", param: field, code: "missing_field")
        case .typeMismatch(let type, let ctx):
            let field = path(ctx.codingPath)
            return .invalidRequest("Field '\(field)' has the wrong type (expected \(type)).", param: field.isEmpty ? nil : field, code: "invalid_type")
        case .valueNotFound(let type, let ctx):
            let field = path(ctx.codingPath)
            return .invalidRequest("Field '\(field)' must not be null (expected \(type)).", param: field, code: "invalid_type")
        case .dataCorrupted(let ctx):
            let field = path(ctx.codingPath)
            if field.isEmpty {
                return .invalidRequest("The request body is not valid JSON.", code: "invalid_json")
            }
            return .invalidRequest("Field '\(field)': \(ctx.debugDescription)", param: field, code: "invalid_value")
        @unknown default:
            return .invalidRequest("The request body could not be decoded.", code: "invalid_json")
        }
    }
}

/// A 400 for a field whose value is well-formed JSON but not acceptable.
func invalidField(_ field: String, _ message: String) -> APIError {
    .invalidRequest("Field '\(field)': \(message)", param: field, code: "invalid_value")
}
