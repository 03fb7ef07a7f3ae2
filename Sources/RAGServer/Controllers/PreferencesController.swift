import Foundation
import Hummingbird
import RAG

/// Ranking answers in the browser: the preferences file given with `--prefs` (candidates from
/// `rag prefs collect`), one record at a time.
///   GET  /rank                              the ranking page (RankPage.swift)
///   GET  /v1/preferences                    {"total", "ranked", "next"}: where ranking stands
///   GET  /v1/preferences/{index}            one record: question, passages, responses, ranking
///   POST /v1/preferences/{index}/ranking    {"ranking": [i, j, …]}: response indices, best first
///   GET  /v1/preferences/export             the ranked records as JSONL, for rag finetune dpo|rm
struct PreferencesController {
    let board: PreferenceBoard?

    struct Progress: Encodable {
        var object = "preferences"
        var total: Int
        var ranked: Int
        var next: Int?
    }
    struct Record: Encodable {
        var object = "preference"
        var index: Int
        var question: String
        var passages: [Passage]
        var responses: [String]
        var ranking: [Int]?
        var judge: String?
    }
    struct RankingRequest: Decodable { var ranking: [Int]? }

    func addRoutes(to router: Router<ServerContext>) {
        router.get("/rank", use: page)
        router.get("/v1/preferences", use: progress)
        router.get("/v1/preferences/export", use: export)
        router.get("/v1/preferences/{index}", use: record)
        router.post("/v1/preferences/{index}/ranking", use: rank)
    }

    private func requireBoard() throws -> PreferenceBoard {
        guard let board else {
            throw APIError.notFound("This server has no preferences to rank: start it with --prefs FILE (written by rag prefs collect).",
                                    code: "preferences_off")
        }
        return board
    }

    private func index(_ context: ServerContext) throws -> Int {
        let raw = context.parameters.get("index") ?? ""
        guard let i = Int(raw), i >= 0 else { throw invalidField("index", "must be a record number from 0 (got '\(raw)')") }
        return i
    }

    @Sendable func page(_ request: Request, context: ServerContext) async throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: RankPage.html)))
    }

    @Sendable func progress(_ request: Request, context: ServerContext) async throws -> Response {
        let p = try await requireBoard().progress()
        return JSONCoding.response(Progress(total: p.total, ranked: p.ranked, next: p.next))
    }

    @Sendable func record(_ request: Request, context: ServerContext) async throws -> Response {
        let i = try index(context)
        guard let set = try await requireBoard().record(i) else {
            throw APIError.notFound("No preference record \(i).", param: "index")
        }
        return JSONCoding.response(Record(index: i, question: set.question, passages: set.passages, responses: set.responses,
                                          ranking: set.ranking, judge: set.judge))
    }

    @Sendable func rank(_ request: Request, context: ServerContext) async throws -> Response {
        let board = try requireBoard()
        let i = try index(context)
        var request = request
        let body = try await request.decodeJSON(RankingRequest.self, context: context)
        guard let ranking = body.ranking else {
            throw APIError.invalidRequest("Missing required field 'ranking' (response indices, best first).", param: "ranking", code: "missing_field")
        }
        guard try await board.record(i) != nil else { throw APIError.notFound("No preference record \(i).", param: "index") }
        let set = try await board.rank(i, ranking: ranking)
        return JSONCoding.response(Record(index: i, question: set.question, passages: set.passages, responses: set.responses,
                                          ranking: set.ranking, judge: set.judge))
    }

    @Sendable func export(_ request: Request, context: ServerContext) async throws -> Response {
        let records = try await requireBoard().trainingRecords()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = Data()
        for r in records { text.append(try encoder.encode(r)); text.append(0x0A) }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        headers[.contentDisposition] = "attachment; filename=\"preferences-ranked.jsonl\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
}
