import Hummingbird

/// GET /: the single self-contained page (inline CSS and JS, no external assets).
struct WebPageController {
    func addRoutes(to router: Router<ServerContext>) {
        router.get("/", use: page)
    }

    @Sendable func page(_ request: Request, context: ServerContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self' blob:"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
    }
}
