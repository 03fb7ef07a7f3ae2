import Foundation
import PostgresNIO
import VectorIndex

/// Retrieval on PostgreSQL: the vector ranking from pgvector's HNSW index (cosine distance,
/// `hnsw.ef_search` set per query), the lexical ranking from the GIN index over `simple` and the
/// documents' language, and the two fused by the same reciprocal rank fusion as the SQLite base.
extension PostgresKnowledgeBase {
    public func search(mode: SearchMode, vector: [Float], text: String, k: Int, allowed: Set<Int64>?) throws -> [FusedHit] {
        let n = max(k, candidates)
        switch mode {
        case .vector:
            return try vectorRanking(vector, k: k, efSearch: parameters.efSearch, allowed: allowed).enumerated().map {
                FusedHit(label: $1.id, score: -$1.distance, ranks: [$0 + 1])
            }
        case .lexical:
            return try lexicalRanking(text, k: k, allowed: allowed).enumerated().map {
                FusedHit(label: $1.id, score: $1.rank, ranks: [$0 + 1])
            }
        case .hybrid:
            let v = try vectorRanking(vector, k: n, efSearch: max(parameters.efSearch, n), allowed: allowed)
            let l = try lexicalRanking(text, k: n, allowed: allowed)
            return RankFusion.reciprocalRank([v.map(\.id), l.map(\.id)], limit: k)
        }
    }

    /// pgvector's largest hnsw.ef_search.
    static let maxEfSearch = 1000

    /// The k nearest chunks by cosine distance, through the HNSW index. With a filter, pgvector's
    /// iterative scan (0.8) keeps walking the graph until k allowed rows are found, in order.
    func vectorRanking(_ query: [Float], k: Int, efSearch: Int, allowed: Set<Int64>?) throws -> [(id: Int64, distance: Double)] {
        guard query.count == embedder.dimension else {
            throw RAGError.invalidInput("the query vector has \(query.count) dimensions, the base holds \(embedder.dimension)")
        }
        return try pool.transaction { s in
            try s.execute("SET LOCAL hnsw.ef_search = \(min(max(efSearch, k), Self.maxEfSearch))")
            var sql = "SELECT id, embedding <=> $1::real[]::vector AS distance FROM rag_chunks"
            var values: [PGValue] = [.floats(query)]
            if let allowed {
                try s.execute("SET LOCAL hnsw.iterative_scan = strict_order")
                sql += " WHERE id = ANY($2)"
                values.append(.ints(Array(allowed)))
            }
            sql += " ORDER BY distance LIMIT \(k)"
            return try s.query(sql, values).map { row in
                let (id, distance) = try row.decode((Int64, Double).self)
                return (id, distance)
            }
        }
    }

    /// Chunks sharing words with the query, ranked by BM25 (k1 1.2, b 0.75, as SQLite's FTS5):
    /// the query's words (stop words dropped, as the SQLite base drops them; CJK as bigrams), each
    /// matched as written (`simple`) or stemmed (the documents' language); a word's frequency in a chunk is
    /// the positions of its commonest form there, a chunk's length its token count. The GIN index
    /// finds the chunks holding any word; the document frequencies are counted over the whole base
    /// (a path filter applies to the result), the base's size and average length come from
    /// `rag_chunk_totals`, all in one statement, so one snapshot.
    ///
    /// The cost is in the matching chunks' tsvectors, read once each. Two things keep it low for a
    /// common word (tens of thousands of matches): the matches are fetched through the GIN index
    /// (MATERIALIZED, else the planner walks the primary key to group by id and reads every row),
    /// and of each chunk's tsvector only the query's lexemes are unnested (setweight marks them,
    /// ts_filter keeps them; `to_tsvector` gives every position weight D), not all ~100 of its words.
    func lexicalRanking(_ text: String, k: Int, allowed: Set<Int64>?) throws -> [(id: Int64, rank: Double)] {
        let terms = Array(Set(LexicalIndex.queryTerms(text).flatMap(CJKBigrams.queryPieces))).sorted()
        guard !terms.isEmpty else { return [] }
        // Terms are runs of letters, digits and marks: quoted, they are plain lexemes to to_tsquery.
        let quoted = terms.map { "'\($0)'" }.joined(separator: " | ")
        var values: [PGValue] = [.text(quoted), .texts(terms)]
        var filter = ""
        if let allowed {
            values.append(.ints(Array(allowed)))
            filter = "WHERE m.id = ANY($3)"
        }
        let sql = """
            WITH forms AS (
                SELECT t.i, v.lexeme
                FROM unnest($2::text[]) WITH ORDINALITY AS t(term, i),
                     LATERAL unnest(to_tsvector('simple', t.term) || to_tsvector('\(language)', t.term)) AS v),
            candidates AS MATERIALIZED (
                SELECT c.id, c.tokens, ts_filter(setweight(c.lexemes, 'A', (SELECT array_agg(lexeme) FROM forms)), '{a}') AS found
                FROM rag_chunks c
                WHERE c.lexemes @@ (to_tsquery('simple', $1) || to_tsquery('\(language)', $1))),
            matches AS (
                SELECT c.id, c.tokens, f.i, max(coalesce(array_length(u.positions, 1), 1)) AS tf
                FROM candidates c CROSS JOIN LATERAL unnest(c.found) AS u JOIN forms f ON f.lexeme = u.lexeme
                GROUP BY c.id, c.tokens, f.i),
            df AS (SELECT i, count(*) AS n FROM matches GROUP BY i),
            base AS (\(Self.totalsSQL))
            SELECT m.id, sum(ln(1 + (base.n - df.n + 0.5) / (df.n + 0.5))
                             * m.tf * 2.2 / (m.tf + 1.2 * (0.25 + 0.75 * m.tokens / base.avglen)))::float8 AS rank
            FROM matches m JOIN df USING (i) CROSS JOIN base \(filter)
            GROUP BY m.id ORDER BY rank DESC, m.id LIMIT \(k)
            """
        return try pool.with { s in
            try s.query(sql, values).map { row in
                let (id, rank) = try row.decode((Int64, Double).self)
                return (id, rank)
            }
        }
    }

    public func exactVectorSearch(_ query: [Float], k: Int) throws -> [Int64] {
        try pool.transaction { s in
            try s.execute("SET LOCAL enable_indexscan = off")  // a sequential scan: every distance computed
            return try s.query("SELECT id FROM rag_chunks ORDER BY embedding <=> $1::real[]::vector LIMIT \(max(1, k))", .floats(query))
                .map { try $0.decode(Int64.self) }
        }
    }

    public func similarities(_ query: [Float], ids: [Int64]) throws -> [Int64: Double] {
        guard !ids.isEmpty, query.count == embedder.dimension else { return [:] }
        return try pool.with { s in
            var out: [Int64: Double] = [:]
            for row in try s.query("SELECT id, 1 - (embedding <=> $1::real[]::vector) FROM rag_chunks WHERE id = ANY($2)",
                                   .floats(query), .ints(ids)) {
                let (id, similarity) = try row.decode((Int64, Double).self)
                out[id] = similarity
            }
            return out
        }
    }
}
