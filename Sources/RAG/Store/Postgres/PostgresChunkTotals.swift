import Foundation

/// The base's size as BM25 needs it (how many chunks, how many tokens in all), kept in
/// `rag_chunk_totals` as signed deltas: each document written adds a row (+chunks, +tokens), each
/// removal a row (−chunks, −tokens), inside the document's own transaction. Writers never update a
/// shared row, so ingests side by side do not queue on one counter, and a query sums a handful of
/// rows instead of counting every chunk (the count was most of a lexical query's time on a large base).
extension PostgresKnowledgeBase {
    /// The totals as one row (n, avglen), for the lexical ranking's SQL.
    static let totalsSQL = """
        SELECT coalesce(sum(chunks), 0)::float8 AS n, greatest(coalesce(sum(tokens), 0)::float8 / greatest(coalesce(sum(chunks), 0), 1), 1) AS avglen
        FROM rag_chunk_totals
        """

    /// Folds every delta row into one. Safe beside other writers: each row is deleted by exactly one
    /// transaction (a concurrent merge waits for the row locks, then skips the rows already gone),
    /// and rows committed after this statement's snapshot stay for the next merge.
    static let mergeTotalsSQL = """
        WITH gone AS (DELETE FROM rag_chunk_totals RETURNING chunks, tokens)
        INSERT INTO rag_chunk_totals SELECT coalesce(sum(chunks), 0), coalesce(sum(tokens), 0) FROM gone
        """

    /// One write in 32 merges the deltas, which keeps the table at a few dozen rows.
    static let mergeEvery: UInt32 = 32

    func recordAdded(_ s: PostgresSession, _ doc: DocumentRecord) throws {
        guard !doc.chunks.isEmpty else { return }
        try s.query("INSERT INTO rag_chunk_totals(chunks, tokens) VALUES($1, $2)",
                    .int(Int64(doc.chunks.count)), .int(Int64(doc.chunks.reduce(0) { $0 + $1.tokens })))
    }

    /// Deletes the documents matching `condition` (SQL over rag_documents, with `values` as its
    /// parameters) and their chunks, and records what left the totals. Returns how many documents went.
    func deleteDocuments(_ s: PostgresSession, where condition: String, _ values: [PGValue]) throws -> Int {
        try s.query("""
            WITH gone AS (DELETE FROM rag_chunks WHERE document_id IN (SELECT id FROM rag_documents WHERE \(condition)) RETURNING tokens)
            INSERT INTO rag_chunk_totals(chunks, tokens) SELECT -count(*), -coalesce(sum(tokens), 0) FROM gone HAVING count(*) > 0
            """, values)
        let removed = try s.query("DELETE FROM rag_documents WHERE \(condition) RETURNING id", values).count
        if UInt32.random(in: 0..<Self.mergeEvery) == 0 { try s.execute(Self.mergeTotalsSQL) }
        return removed
    }

    /// Counts the chunks again and replaces the deltas by the exact totals. The table lock keeps
    /// writers from adding a delta during the recount (they wait, then add theirs on top of it).
    func recountTotals() throws {
        try pool.transaction { s in
            try s.execute("LOCK TABLE rag_chunk_totals IN EXCLUSIVE MODE")
            try s.execute("DELETE FROM rag_chunk_totals")
            try s.execute("INSERT INTO rag_chunk_totals SELECT count(*), coalesce(sum(tokens), 0) FROM rag_chunks")
        }
    }

    /// The chunk count the deltas record and the one counted, when they differ (`rag status --check`).
    static func totalsDrift(_ s: PostgresSession) throws -> (recorded: Int64, counted: Int64)? {
        guard let row = try s.query("SELECT (SELECT coalesce(sum(chunks), 0) FROM rag_chunk_totals)::int8, (SELECT count(*) FROM rag_chunks)::int8").first
        else { return nil }
        let (recorded, counted) = try row.decode((Int64, Int64).self)
        return recorded == counted ? nil : (recorded, counted)
    }
}
