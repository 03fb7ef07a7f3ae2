import VectorIndex

extension KnowledgeBase {
    /// Checks that chunks, graph nodes and full-text rows describe the same set of chunk ids, and
    /// SQLite's own integrity. Returns the problems found (empty when the base is sound).
    public func verifyIntegrity() throws -> [String] {
        try readers.with { db in
            var problems: [String] = []
            let check = try db.query("PRAGMA integrity_check") { $0.string(0) ?? "" }
            if check != ["ok"] { problems += check.map { "sqlite: \($0)" } }
            let chunkIDs = Set(try db.query("SELECT id FROM chunks") { $0.int64(0) })
            let ftsIDs = Set(try db.query("SELECT rowid FROM \(LexicalIndex.wordTable)") { $0.int64(0) })
            let stored = try HNSWIndex.load(from: db)
            let nodeIDs = Set(stored?.labels ?? [])
            if chunkIDs != nodeIDs {
                problems.append("graph nodes and chunks differ: \(chunkIDs.subtracting(nodeIDs).count) chunks without a node, "
                                + "\(nodeIDs.subtracting(chunkIDs).count) nodes without a chunk")
            }
            if chunkIDs != ftsIDs {
                problems.append("full-text rows and chunks differ: \(chunkIDs.subtracting(ftsIDs).count) missing, "
                                + "\(ftsIDs.subtracting(chunkIDs).count) stale")
            }
            let orphans = try db.query("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)") { $0.int(0) }
            if let n = orphans.first, n > 0 { problems.append("\(n) chunks without a document") }
            return problems
        }
    }
}
