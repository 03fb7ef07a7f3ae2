import Hummingbird

/// Sets the body limit for the route (uploads get the large one) and refuses a declared
/// Content-Length beyond it before reading anything.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let defaultLimit: Int
    let uploadLimit: Int
    let uploadPaths: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = (request.method == .post && uploadPaths.contains(request.uri.path)) ? uploadLimit : defaultLimit
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > context.bodyLimit {
            throw APIError.tooLarge(limit: context.bodyLimit)
        }
        return try await next(request, context)
    }
}
