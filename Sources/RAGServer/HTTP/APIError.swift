import Foundation
import Hummingbird

/// An error in OpenAI's shape: `{"error":{"message","type","param","code"}}` with its HTTP status.
/// Every failure the server reports, from any route, leaves as one of these.
public struct APIError: Error, Sendable, Equatable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Seconds a client should wait before retrying (429, 503 while loading).
    public var retryAfter: Int?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil, retryAfter: Int? = nil) {
        self.status = status; self.message = message; self.type = type
        self.param = param; self.code = code; self.retryAfter = retryAfter
    }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, message: message, type: "authentication_error", code: "invalid_api_key")
    }
    public static func notFound(_ message: String, param: String? = nil, code: String = "not_found") -> APIError {
        APIError(status: .notFound, message: message, type: "invalid_request_error", param: param, code: code)
    }
    public static func modelNotFound(_ model: String) -> APIError {
        APIError(status: .notFound, message: "The model '\(model)' does not exist; GET /v1/models lists the models served here.",
                 type: "invalid_request_error", param: "model", code: "model_not_found")
    }
    public static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "Request body is larger than the limit of \(limit) bytes.",
                 type: "invalid_request_error", code: "request_too_large")
    }
    public static func queueFull(retryAfter: Int) -> APIError {
        APIError(status: .tooManyRequests, message: "The generation queue is full; retry later.",
                 type: "rate_limit_error", code: "queue_full", retryAfter: retryAfter)
    }
    public static var loading: APIError {
        APIError(status: .serviceUnavailable, message: "The models are still loading; retry shortly.",
                 type: "service_unavailable", code: "loading", retryAfter: 1)
    }
    public static func unavailable(_ message: String, code: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "service_unavailable", code: code)
    }
    public static func timeout(seconds: Double) -> APIError {
        APIError(status: .serviceUnavailable, message: "The request took longer than the limit of \(seconds) s.",
                 type: "service_unavailable", code: "timeout")
    }
    public static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    /// The JSON body, also used for an error event inside a stream.
    public var body: ErrorBody {
        ErrorBody(error: .init(message: message, type: type, param: param, code: code))
    }

    public struct ErrorBody: Codable, Sendable, Equatable {
        public struct Detail: Codable, Sendable, Equatable {
            public var message: String
            public var type: String
            public var param: String?
            public var code: String?
            // Explicit nulls, as OpenAI sends them.
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)
                try c.encode(code, forKey: .code)
            }
        }
        public var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONCoding.buffer(body)))
    }
}
