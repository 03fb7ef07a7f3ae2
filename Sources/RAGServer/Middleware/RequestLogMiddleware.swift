import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// One log line per request (id, method, route, status, duration) and the request metrics. The
/// request id comes from `X-Request-Id` when the client sends one and is echoed back. A streamed
/// response is logged when its last byte has been written.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let metrics: Metrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        var context = context
        let id = request.headers[.requestID].map { String($0.prefix(64)) } ?? context.id
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.requestID] = id
        let route = context.routeLabel, method = request.method.rawValue, status = response.status.code
        let logger = context.logger, metrics = self.metrics
        let finish: @Sendable () -> Void = {
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            metrics.recordRequest(route: route, method: method, status: status, seconds: seconds)
            logger.info("\(method) \(route) \(status) \(String(format: "%.1f", seconds * 1000)) ms")
        }
        if response.body.contentLength != nil {
            finish()
            return response
        }
        let body = response.body
        response.body = ResponseBody { writer in
            defer { finish() }
            try await body.write(writer)
        }
        return response
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}
