import Foundation
import Hummingbird
import RAG

/// GET /v1/documents/{id}: the document's original file, so that a cited source can be opened
/// (the page links a PDF passage as `/v1/documents/ID#page=N`, which browsers' viewers open at
/// that page). Behind the same API key as every other /v1 route.
struct DocumentFileController {
    let state: ServerState

    func addRoutes(to router: Router<ServerContext>) {
        router.get("/v1/documents/{id}", use: file)
    }

    @Sendable func file(_ request: Request, context: ServerContext) async throws -> Response {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw) else { throw invalidField("id", "document ids are integers (got '\(raw)')") }
        let found: DocumentFile?
        do { found = try await state.service().documentFile(id: id) } catch let e as RAGError {
            throw APIError.notFound("\(e)", param: "id", code: "document_file_unavailable")
        }
        guard let doc = found else {
            throw APIError.notFound("No document with id \(id).", param: "id", code: "document_not_found")
        }
        let data: Data
        do { data = try Data(contentsOf: doc.url) } catch {
            throw APIError.notFound("Document \(id): cannot read its file (\(error.localizedDescription)).", param: "id",
                                    code: "document_file_unavailable")
        }
        var headers = HTTPFields()
        headers[.contentType] = doc.mediaType
        headers[.contentDisposition] = Self.inlineDisposition(fileName: doc.url.lastPathComponent)
        headers[.xContentTypeOptions] = "nosniff"
        // An uploaded HTML file must not run scripts in the page's origin (where the API key lives).
        headers[.contentSecurityPolicy] = "sandbox"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `inline; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266), so the browser
    /// shows the file and saves it under its own name.
    static func inlineDisposition(fileName: String) -> String {
        let ascii = String(fileName.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "!#$&+-.^_`|~")
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "inline; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
