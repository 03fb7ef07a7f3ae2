import Foundation
import Hummingbird
import RAG

/// The knowledge base's documents: list with paging, upload (multipart/form-data, field `file`),
/// delete; and background re-syncs of the configured folder as jobs.
struct DocumentsController {
    let state: ServerState

    struct DocumentList: Encodable {
        var object = "list"
        var total: Int
        var offset: Int
        var limit: Int
        var data: [DocumentInfo]
    }
    struct Deleted: Encodable {
        var id: Int64
        var object = "document"
        var deleted = true
    }

    static let maxLimit = 1000

    func addRoutes(to router: Router<ServerContext>) {
        router.get("/v1/documents", use: list)
        router.post("/v1/documents", use: upload)
        router.delete("/v1/documents/{id}", use: delete)
        router.post("/v1/ingest", use: ingest)
        router.get("/v1/jobs/{id}", use: job)
    }

    @Sendable func list(_ request: Request, context: ServerContext) async throws -> Response {
        let query = request.uri.queryParameters
        let offset = try Self.intParameter(query.get("offset"), name: "offset", default: 0, range: 0...Int.max)
        let limit = try Self.intParameter(query.get("limit"), name: "limit", default: 50, range: 1...Self.maxLimit)
        let (total, items) = try await state.service().documents(offset: offset, limit: limit)
        return JSONCoding.response(DocumentList(total: total, offset: offset, limit: limit, data: items))
    }

    static func intParameter(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let v = Int(raw), range.contains(v) else {
            throw invalidField(name, "must be an integer in \(range.lowerBound)...\(range.upperBound == Int.max ? "" : String(range.upperBound))")
        }
        return v
    }

    @Sendable func upload(_ request: Request, context: ServerContext) async throws -> Response {
        var request = request
        let boundary: String
        do { boundary = try Multipart.boundary(contentType: request.headers[.contentType]) } catch {
            throw APIError.invalidRequest("\(error); send the file as multipart/form-data in the field 'file'.", code: "invalid_content_type")
        }
        let body = try await request.collectBody(context: context)
        let parts: [Multipart.Part]
        do { parts = try Multipart.parse(Array(body.readableBytesView), boundary: boundary) } catch {
            throw APIError.invalidRequest("\(error)", code: "invalid_multipart")
        }
        guard let file = parts.first(where: { $0.name == "file" }) else {
            throw APIError.invalidRequest("Missing form field 'file'.", param: "file", code: "missing_field")
        }
        guard let name = file.fileName, !name.isEmpty else { throw invalidField("file", "the part has no filename") }
        try Self.checkFileName(name)
        let service = try await state.service()
        let info = try await service.addDocument(fileName: name, data: Data(file.body))
        return JSONCoding.response(info, status: .created)
    }

    /// The service sanitises names too; we refuse the obviously hostile ones before calling it.
    static func checkFileName(_ name: String) throws {
        let bad = name.contains("/") || name.contains("\\") || name.contains("..") || name.contains("\0")
            || name.unicodeScalars.contains { $0.properties.generalCategory == .control }
        if bad || name.utf8.count > 255 {
            throw invalidField("file", "file name '\(name.prefix(100))' must not contain path separators, '..' or control characters")
        }
    }

    @Sendable func delete(_ request: Request, context: ServerContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw) else { throw invalidField("id", "document ids are integers (got '\(raw)')") }
        guard try await state.service().deleteDocument(id: id) else {
            throw APIError.notFound("No document with id \(id).", param: "id", code: "document_not_found")
        }
        return JSONCoding.response(Deleted(id: id))
    }

    @Sendable func ingest(_ request: Request, context: ServerContext) async throws -> Response {
        let service = try await state.service()
        let job = await state.jobs.startSync(on: service)
        return JSONCoding.response(job, status: .accepted)
    }

    @Sendable func job(_ request: Request, context: ServerContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let job = await state.jobs.job(id, on: try? await state.service()) else { throw APIError.notFound("No job '\(id)'.", param: "id", code: "job_not_found") }
        return JSONCoding.response(job)
    }
}
