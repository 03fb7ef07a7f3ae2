import Foundation
import Hummingbird
import Logging
import NIOCore
import RAG

/// Turns every error a route or middleware throws into OpenAI's error shape with the right status.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error, context: context)
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
            } else {
                context.logger.debug("request refused", metadata: ["status": "\(apiError.status.code)", "code": "\(apiError.code ?? "")"])
            }
            return try apiError.response(from: request, context: context)
        }
    }

    static func apiError(for error: any Error, context: Context) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as HTTPError:
            switch e.status {
            case .notFound: return .notFound("No route matches this method and path.", code: "unknown_route")
            case .contentTooLarge: return .tooLarge(limit: context.bodyLimit)
            case .unauthorized: return .unauthorized(e.body ?? "Unauthorized.")
            default:
                return APIError(status: e.status, message: e.body ?? e.status.reasonPhrase,
                                type: e.status.code < 500 ? "invalid_request_error" : "server_error")
            }
        case let e as DecodingError:
            return JSONCoding.apiError(from: e)
        case let e as RAGError:
            switch e {
            case .invalidInput(let m): return .invalidRequest(m)
            case .modelMissing(let m): return .unavailable(m, code: "model_missing")
            case .store, .embedderMismatch: return .internalError(e.description)
            }
        case is NIOTooManyBytesError:
            return .tooLarge(limit: context.bodyLimit)
        case is GenerationQueue.Full:
            return .queueFull(retryAfter: 1)
        default:
            return .internalError("Internal error: \(error)")
        }
    }
}
