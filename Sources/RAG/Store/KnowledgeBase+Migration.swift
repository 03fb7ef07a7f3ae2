import Foundation
import VectorIndex

/// The parts of `KnowledgeStore` that read vectors back: similarities for the relevance threshold,
/// and whole documents for `rag migrate`.
extension KnowledgeBase {
    public var indexDescription: String {
        let p = index.parameters
        return "HNSW, \(index.metric.rawValue), M \(p.M), efConstruction \(p.efConstruction), efSearch \(p.efSearch)"
    }

    public func similarities(_ query: [Float], ids: [Int64]) throws -> [Int64: Double] {
        let index = self.index
        var out: [Int64: Double] = [:]
        for id in ids {
            guard let v = index.vector(for: id), v.count == query.count else { continue }
            var dot: Float = 0
            for i in 0..<v.count { dot += v[i] * query[i] }
            out[id] = Double(dot)  // stored vectors and the query are unit length: the dot is the cosine
        }
        return out
    }

    public func saveJob(id: String, record: String) throws {
        try write { db in
            try db.run("INSERT OR REPLACE INTO jobs(id, record, updated_at) VALUES(?, ?, ?)", .text(id), .text(record),
                       .real(Date().timeIntervalSince1970))
        }
    }

    public func job(id: String) throws -> String? {
        try readers.with { db in try db.query("SELECT record FROM jobs WHERE id = ?", .text(id)) { $0.string(0) }.first ?? nil }
    }

    public func exactVectorSearch(_ query: [Float], k: Int) throws -> [Int64] {
        try refresh()
        return try index.exactSearch(query, k: k).map(\.label)
    }

    public func exportDocuments(_ body: (ExportedDocument) throws -> Void) throws {
        try refresh()
        let index = self.index
        try readers.with { db in
            let docs = try db.query("""
                SELECT id, path, source, kind, bytes, mtime_ns, content_hash, pages, title, ingested_at FROM documents ORDER BY id
                """) { s in
                (id: s.int64(0), record: DocumentRecord(path: s.string(1) ?? "", source: s.string(2) ?? "", kind: s.string(3) ?? "",
                                                        bytes: s.int64(4), mtimeNanoseconds: s.int64(5), contentHash: s.string(6) ?? "",
                                                        pages: s.isNull(7) ? nil : s.int(7), title: s.string(8), chunks: []),
                 ingestedAt: s.double(9))
            }
            let chunkRows = try db.prepare("""
                SELECT id, text, page, section, char_start, char_end, tokens FROM chunks WHERE document_id = ? ORDER BY ordinal
                """)
            for d in docs {
                chunkRows.reset()
                _ = try chunkRows.bind(1, d.id)
                var record = d.record
                var ids: [Int64] = []
                while try chunkRows.step() {
                    let id = chunkRows.int64(0)
                    guard let vector = index.vector(for: id) else {
                        throw RAGError.store("\(url.path): chunk \(id) of \(record.path) has no vector; `rag repair --db \(url.path)` rebuilds them")
                    }
                    ids.append(id)
                    record.chunks.append(ChunkRecord(text: chunkRows.string(1) ?? "", page: chunkRows.isNull(2) ? nil : chunkRows.int(2),
                                                     section: chunkRows.string(3), charStart: chunkRows.int(4), charEnd: chunkRows.int(5),
                                                     tokens: chunkRows.int(6), vector: vector))
                }
                try body(ExportedDocument(id: d.id, record: record, chunkIDs: ids, ingestedAt: d.ingestedAt))
            }
        }
    }

    public func importDocument(_ doc: ExportedDocument) throws {
        try checkDimensions(doc.record)
        guard doc.chunkIDs.count == doc.record.chunks.count else {
            throw RAGError.invalidInput("\(doc.record.path): \(doc.chunkIDs.count) chunk ids for \(doc.record.chunks.count) chunks")
        }
        try writeTransaction { db, index in
            let taken = try db.query("SELECT path FROM documents WHERE id = ? OR (source = ? AND path = ?)",
                                     .integer(doc.id), .text(doc.record.source), .text(doc.record.path)) { $0.string(0) ?? "" }
            if let other = taken.first {
                throw RAGError.invalidInput("\(url.path) already holds document \(doc.id) or \(doc.record.path) (\(other)); migrate into an empty base")
            }
            _ = try insertLocked(db, index, doc.record, ids: (doc.id, doc.chunkIDs), ingestedAt: doc.ingestedAt)
        }
    }
}
