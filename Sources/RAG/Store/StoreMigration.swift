import Foundation
import VectorIndex

/// `rag migrate`: copies a knowledge base from one store to another (SQLite to PostgreSQL and
/// back), keeping document and chunk ids, the vectors as stored, and the embedder's identity, so
/// ids that clients hold stay valid and nothing is re-embedded; uploaded documents' files go along
/// (from and to the folder beside a SQLite base, or the PostgreSQL base itself).
public enum StoreMigration {
    public struct Report: Sendable, Codable, Equatable {
        public var documents = 0
        public var chunks = 0
        /// Uploaded documents' files copied along.
        public var files = 0
        public var seconds = 0.0
    }

    /// Copies every document of `source` into `destination`, which must hold no documents yet
    /// (it is created when absent). Each document is one transaction at the destination: an
    /// interrupted copy leaves whole documents, and running it again is refused until the partial
    /// destination is emptied, so nothing is duplicated or overwritten.
    public static func copy(from source: StoreLocation, to destination: StoreLocation,
                            progress: (Report) -> Void = { _ in }) throws -> Report {
        let started = Date()
        guard source != destination else { throw RAGError.invalidInput("--from and --to are the same base (\(source))") }
        try source.requireExisting()
        guard let identity = try source.recordedEmbedder() else {
            throw RAGError.invalidInput("\(source): no embedder recorded (an empty base: nothing to migrate)")
        }
        let from = try source.open(embedder: identity)
        let to = try destination.open(embedder: identity)
        if try to.stats().documents > 0 {
            throw RAGError.invalidInput("\(destination) already holds documents; migrate into an empty base (rag delete them, or use another database)")
        }
        var report = Report()
        try to.beginBulkImport()
        do {
            try from.exportDocuments { doc in
                try to.importDocument(doc)
                if doc.record.source == RAGPipeline.uploadSource {
                    report.files += try copyUploadedFile(doc, from: (from, source), to: (to, destination)) ? 1 : 0
                }
                report.documents += 1
                report.chunks += doc.chunkIDs.count
                progress(report)
            }
        } catch {
            try? to.endBulkImport()
            throw error
        }
        try to.endBulkImport()
        if let root = try from.setting("root") { try to.setSetting("root", root) }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Copies an uploaded document's file, if the source has it; false when it has none (a file
    /// removed from the uploads folder by hand: the document's text is still copied).
    private static func copyUploadedFile(_ doc: ExportedDocument, from: (store: any KnowledgeStore, location: StoreLocation),
                                         to: (store: any KnowledgeStore, location: StoreLocation)) throws -> Bool {
        guard UploadName.isSanitized(doc.record.path) else {
            throw RAGError.invalidInput("document \(doc.id): '\(doc.record.path)' is not a name an upload can have")
        }
        let data: Data
        if from.store.keepsUploadedFiles {
            guard let kept = try from.store.uploadedFile(documentID: doc.id) else { return false }
            data = kept
        } else {
            guard let read = FileManager.default.contents(atPath: from.location.uploadsFolder.appendingPathComponent(doc.record.path).path) else { return false }
            data = read
        }
        if to.store.keepsUploadedFiles {
            try to.store.saveUploadedFile(documentID: doc.id, data: data)
        } else {
            let folder = to.location.uploadsFolder
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try data.write(to: folder.appendingPathComponent(doc.record.path), options: .atomic)
        }
        return true
    }
}

extension StoreLocation {
    /// The embedder the base at this location was built with, or nil when it has none yet.
    public func recordedEmbedder() throws -> EmbedderIdentity? {
        let settings: [String: String]
        switch self {
        case .sqlite(let url):
            let db: Database
            do { db = try Database(path: url.path, mode: .readOnly) } catch { throw RAGError.store("cannot open \(url.path): \(error)") }
            guard try !db.query("SELECT 1 FROM sqlite_master WHERE name = 'settings'", row: { _ in true }).isEmpty else { return nil }
            settings = try KnowledgeBase.readSettings(db)
        case .postgres(let p):
            let pool = try PostgresPool(location: p, maxIdle: 1)
            settings = try pool.with { s in
                guard try !s.query("SELECT 1 FROM pg_tables WHERE tablename = 'rag_settings'").isEmpty else { return [:] }
                return try PostgresKnowledgeBase.readSettings(s)
            }
        }
        guard let name = settings["embedder"], let dimension = settings["dimension"].flatMap(Int.init) else { return nil }
        return EmbedderIdentity(name: name, dimension: dimension)
    }
}
