import Foundation
import Hummingbird

/// GET /health (503 while loading, 200 once ready) and GET /metrics (Prometheus text).
struct HealthController {
    let state: ServerState

    struct Health: Encodable {
        var status: String
        var message: String?
        /// Whether /v1 routes need `Authorization: Bearer KEY` (the page asks for the key first).
        var authRequired: Bool
        /// Whether the server has a preferences file to rank (`--prefs`): the page links to /rank.
        var preferences: Bool
        enum CodingKeys: String, CodingKey { case status, message, authRequired = "auth_required", preferences }
    }

    func addRoutes(to router: Router<ServerContext>) {
        router.get("/health", use: health)
        router.get("/metrics", use: metrics)
    }

    @Sendable func health(_ request: Request, context: ServerContext) async throws -> Response {
        let auth = state.config.apiKey != nil, prefs = state.config.prefs != nil
        switch await state.provider.state {
        case .ready: return JSONCoding.response(Health(status: "ok", authRequired: auth, preferences: prefs))
        case .loading:
            var r = JSONCoding.response(Health(status: "loading", authRequired: auth, preferences: prefs), status: .serviceUnavailable)
            r.headers[.retryAfter] = "1"
            return r
        case .failed(let m):
            return JSONCoding.response(Health(status: "error", message: m, authRequired: auth, preferences: prefs), status: .serviceUnavailable)
        case .closed:
            return JSONCoding.response(Health(status: "shutting_down", authRequired: auth, preferences: prefs), status: .serviceUnavailable)
        }
    }

    @Sendable func metrics(_ request: Request, context: ServerContext) async throws -> Response {
        let text = state.metrics.exposition(await state.gauges())
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
