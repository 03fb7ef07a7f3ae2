import Foundation
import Hummingbird

/// With an API key configured, every route but /health and the static pages (/ and /rank) needs
/// `Authorization: Bearer KEY`. The comparison takes the same time wherever the first difference is.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let apiKey: [UInt8]
    static let publicPaths: Set<String> = ["/health", "/", "/rank"]

    init(apiKey: String) { self.apiKey = Array(apiKey.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get && Self.publicPaths.contains(request.uri.path) {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("Missing 'Authorization: Bearer <key>' header.")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized("The Authorization header must be 'Bearer <key>'.")
        }
        let presented = Array(header.dropFirst(prefix.count).utf8)
        guard Self.constantTimeEquals(presented, apiKey) else {
            throw APIError.unauthorized("Incorrect API key provided.")
        }
        return try await next(request, context)
    }

    /// Compares every byte of the longer input, so timing reveals at most the length.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count) | (a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
