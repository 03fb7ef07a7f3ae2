import Hummingbird
import NIOCore

/// Per-request context: Hummingbird's core storage plus the connection, so that a generation can
/// notice a client that went away even while it is not writing.
public struct ServerContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    /// Set by `BodyLimitMiddleware` for the route; `request.collectBody` honours it.
    public var bodyLimit: Int = 1 << 20

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    public var maxUploadSize: Int { bodyLimit }

    /// The route template ("/v1/documents/{id}") for logs and metrics, never the raw path.
    public var routeLabel: String { endpointPath ?? "unmatched" }
}

extension Request {
    /// The whole body, refused with 413 beyond the route's limit.
    mutating func collectBody(context: ServerContext) async throws -> ByteBuffer {
        do {
            return try await collectBody(upTo: context.bodyLimit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.tooLarge(limit: context.bodyLimit)
        } catch is NIOTooManyBytesError {  // a chunked body (no Content-Length) that went past the limit
            throw APIError.tooLarge(limit: context.bodyLimit)
        }
    }

    mutating func decodeJSON<T: Decodable>(_ type: T.Type, context: ServerContext) async throws -> T {
        try JSONCoding.decode(type, from: try await collectBody(context: context))
    }
}
