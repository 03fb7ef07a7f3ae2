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
        if doc.source == Self.uploadSource && base.keepsUploadedFiles {
            return try await runOffPool { _ in try self.cachedUpload(doc) }
        }
        let folder: URL
        if doc.source == Self.uploadSource {
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

extension RAGPipeline {
    /// Where this machine caches an uploaded file the store keeps: by content hash, so a new
    /// version uploaded through another server is never served from a stale copy.
    func cachedUploadFolder(_ doc: StoredDocument) -> URL {
        uploadsFolder.appendingPathComponent(".files", isDirectory: true).appendingPathComponent(doc.contentHash, isDirectory: true)
    }

    /// The uploaded file of `doc` from the store, written once to this machine's cache.
    func cachedUpload(_ doc: StoredDocument) throws -> DocumentFile {
        guard UploadName.isSanitized(doc.path), !doc.contentHash.isEmpty, doc.contentHash.allSatisfy(\.isHexDigit) else {
            throw RAGError.invalidInput("document \(doc.id): '\(doc.path)' is not a name an upload can have")
        }
        let folder = cachedUploadFolder(doc)
        let url = folder.appendingPathComponent(doc.path)
        if !FileManager.default.fileExists(atPath: url.path) {
            guard let data = try base.uploadedFile(documentID: doc.id) else {
                throw RAGError.invalidInput("document \(doc.id): \(base.location) holds no file for the upload \(doc.path)")
            }
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: url, options: .atomic)
        }
        return DocumentFile(id: doc.id, path: doc.path, url: url)
    }
}
