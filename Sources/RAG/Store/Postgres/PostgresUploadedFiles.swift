import Foundation

/// Uploaded documents' files in `rag_uploaded_files` (bytea, deleted with their document): a file
/// uploaded through one server is served by every other, wherever it runs. (Uploads are capped in
/// size before they get here; bytea holds up to 1 GB.)
extension PostgresKnowledgeBase {
    public var keepsUploadedFiles: Bool { true }

    public func saveUploadedFile(documentID: Int64, data: Data) throws {
        try pool.with { s in
            try s.query("""
                INSERT INTO rag_uploaded_files(document_id, data) VALUES($1, $2)
                ON CONFLICT(document_id) DO UPDATE SET data = EXCLUDED.data
                """, .int(documentID), .bytes(data))
        }
    }

    public func uploadedFile(documentID: Int64) throws -> Data? {
        try pool.with { s in
            try s.query("SELECT data FROM rag_uploaded_files WHERE document_id = $1", .int(documentID)).first?.decode(Data.self)
        }
    }
}
