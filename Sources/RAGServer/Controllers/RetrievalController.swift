import Foundation
import Hummingbird
import RAG

/// POST /v1/retrieve: `{"query" | "question", "k", "mode", "filter"}` → `{"hits": [SearchHit]}`.
struct RetrievalController {
    let state: ServerState

    struct RetrieveRequest: Decodable {
        var query: String?
        var question: String?
        var k: Int?
        var mode: String?
        var filter: String?
    }
    struct RetrieveResponse: Encodable { var hits: [SearchHit] }

    func addRoutes(to router: Router<ServerContext>) {
        router.post("/v1/retrieve", use: retrieve)
    }

    @Sendable func retrieve(_ request: Request, context: ServerContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(RetrieveRequest.self, context: context)
        guard let query = body.query ?? body.question else {
            throw APIError.invalidRequest("Missing required field 'query' (or 'question').", param: "query", code: "missing_field")
        }
        guard !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw invalidField("query", "must not be empty") }
        let mode = try body.mode.map { m -> RetrievalMode in
            guard let mode = RetrievalMode(rawValue: m) else { throw invalidField("mode", "must be vector, lexical or hybrid") }
            return mode
        }
        let options = try Self.searchOptions(k: body.k, mode: mode, filter: body.filter, defaultK: 10, use: .search, field: "k")
        let hits = try await state.service().search(query, options: options)
        return JSONCoding.response(RetrieveResponse(hits: hits))
    }

    /// The request's search options; `k` is checked against RAG's rule for `use` up front, so a bad
    /// value is a 400 naming `field` before the request waits for anything.
    static func searchOptions(k: Int?, mode: RetrievalMode?, filter: String?, defaultK: Int,
                              use: RetrievalUse, field: String) throws -> SearchOptions {
        let glob = filter.flatMap { $0.isEmpty ? nil : $0 }
        let options = SearchOptions(k: k ?? defaultK, mode: mode ?? .hybrid, pathGlob: glob)
        if let problem = options.kProblem(for: use) { throw invalidField(field, problem) }
        return options
    }
}
