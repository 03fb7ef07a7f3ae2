import Foundation
import VectorIndex

/// `rag status --check`: what must hold between the base's tables. Works on a base whose graph no
/// longer loads (that is one of the things it reports), so a damaged base can always be examined.
extension KnowledgeBase {
    /// The problems found in this base (empty when it is sound).
    public func verifyIntegrity() throws -> [String] {
        try readers.with { db in try Self.problems(in: db) }
    }

    /// The problems found in the base at `url`, read in one snapshot without loading it.
    public static func check(url: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw RAGError.invalidInput("\(url.path): no such knowledge base") }
        let db: Database
        do { db = try Database(path: url.path, mode: .readOnly) } catch { throw RAGError.store("cannot open \(url.path): \(error)") }
        return try db.readTransaction { try problems(in: db) }
    }

    /// SQLite's own check; graph links in range and to live nodes; one vector per chunk; one
    /// full-text row per chunk; no chunk without its document.
    static func problems(in db: Database) throws -> [String] {
        var problems: [String] = []
        let check = try db.query("PRAGMA integrity_check") { $0.string(0) ?? "" }
        if check != ["ok"] { problems += check.map { "sqlite: \($0)" } }
        func hasTable(_ name: String) throws -> Bool {
            try db.query("SELECT count(*) FROM sqlite_master WHERE name = ?", .text(name)) { $0.int(0) } == [1]
        }
        func sample(_ ids: Set<Int64>) -> String {
            let shown = ids.sorted().prefix(5).map(String.init).joined(separator: ", ")
            return ids.count > 5 ? shown + ", …" : shown
        }
        let chunkIDs = Set(try db.query("SELECT id FROM chunks") { $0.int64(0) })

        // Vectors are counted from the rows, so a graph that does not load is still counted.
        let labels = try hasTable("vector_index_node") ? try db.query("SELECT label FROM vector_index_node") { $0.int64(0) } : []
        let vectorIDs = Set(labels)
        let withoutVector = chunkIDs.subtracting(vectorIDs), withoutChunk = vectorIDs.subtracting(chunkIDs)
        if !withoutVector.isEmpty || !withoutChunk.isEmpty || labels.count != vectorIDs.count {
            problems.append("vectors: \(labels.count) for \(chunkIDs.count) chunks"
                + (withoutVector.isEmpty ? "" : "; \(withoutVector.count) chunks without a vector (ids \(sample(withoutVector)))")
                + (withoutChunk.isEmpty ? "" : "; \(withoutChunk.count) vectors without a chunk (labels \(sample(withoutChunk)))"))
        }
        do {
            if let graph = try HNSWIndex.load(from: db) { problems += graph.structuralProblems().map { "graph: \($0)" } }
        } catch {
            problems.append("graph: \(error)")
        }

        for table in [LexicalIndex.wordTable, LexicalIndex.cjkTable] where try hasTable(table) {
            let rows = Set(try db.query("SELECT rowid FROM \(table)") { $0.int64(0) })
            let missing = table == LexicalIndex.wordTable ? chunkIDs.subtracting(rows) : []  // CJK rows: only chunks with CJK text
            let stale = rows.subtracting(chunkIDs)
            if !missing.isEmpty || !stale.isEmpty {
                problems.append("full-text \(table): \(rows.count) rows for \(chunkIDs.count) chunks"
                    + (missing.isEmpty ? "" : "; \(missing.count) chunks without a row (ids \(sample(missing)))")
                    + (stale.isEmpty ? "" : "; \(stale.count) rows without a chunk (ids \(sample(stale)))"))
            }
        }
        let orphans = try db.query("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") { $0.int(0) }
        if let n = orphans.first, n > 0 { problems.append("\(n) chunks without a document") }
        return problems
    }
}
