import Foundation

/// A document's original file on disk, as `GET /v1/documents/{id}` serves it.
public struct DocumentFile: Sendable, Equatable {
    public var id: Int64
    /// The path the document is listed under (relative to its folder, or the uploaded name).
    public var path: String
    public var url: URL
    public init(id: Int64, path: String, url: URL) { self.id = id; self.path = path; self.url = url }

    /// The MIME type by extension, the same extensions ingestion reads.
    public var mediaType: String {
        switch url.pathExtension.lowercased() {
        case "pdf": return "application/pdf"
        case "html", "htm": return "text/html; charset=utf-8"
        case "md", "markdown": return "text/markdown; charset=utf-8"
        default: return "text/plain; charset=utf-8"
        }
    }
}

extension RAGService {
    public func documentFile(id: Int64) async throws -> DocumentFile? {
        throw RAGError.invalidInput("this service keeps no original files")
    }
}

extension RAGPipeline {
    /// Where document `id`'s file is: under the folder it was ingested from (recorded in its
    /// source) or in the uploads folder. nil when no such document; an error when the file has
    /// gone or would lie outside its folder.
    public func documentFile(id: Int64) async throws -> DocumentFile? {
        guard let doc = try await runOffPool({ _ in try self.base.storedDocument(id: id) }) else { return nil }
        let folder: URL
        if doc.source == "upload" {
            folder = uploadsFolder
        } else if doc.source.hasPrefix("folder:") {
            folder = URL(fileURLWithPath: String(doc.source.dropFirst("folder:".count)), isDirectory: true)
        } else {
            throw RAGError.invalidInput("document \(id) (\(doc.path)) has no file this service can serve (source '\(doc.source)')")
        }
        let root = folder.standardizedFileURL.path
        let url = folder.appendingPathComponent(doc.path).standardizedFileURL
        guard url.path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw RAGError.invalidInput("document \(id): its path '\(doc.path)' leaves its folder")
        }
        guard FileManager.default.isReadableFile(atPath: url.path) else {
            throw RAGError.invalidInput("document \(id): its file \(url.path) is gone (sync the folder to forget it)")
        }
        return DocumentFile(id: id, path: doc.path, url: url)
    }
}
