/// A lexical hit: the chunk id and its BM25 relevance (higher = better; SQLite's bm25() negated).
public struct LexicalHit: Sendable, Equatable {
    public let chunkID: Int64
    public let score: Double

    public init(chunkID: Int64, score: Double) {
        self.chunkID = chunkID
        self.score = score
    }
}

/// FTS5 full-text search over chunk text, keyed by chunk id (the FTS rowid):
///   lexical_text:  fts5(text, tokenize='unicode61 remove_diacritics 2') — every chunk;
///   lexical_cjk:   fts5(text, tokenize='trigram') — chunks containing CJK characters.
/// Queries with CJK characters go to the trigram table. All calls run on the caller's connection,
/// inside whatever transaction it has open.
public struct LexicalIndex: Sendable {
    public init() {}

    public static let wordTable = "lexical_text"
    public static let cjkTable = "lexical_cjk"
    /// The words `search` looks for in `text` (runs of letters and digits, stop words dropped), for
    /// other stores that rank by the same words (PostgreSQL's full-text search).
    public static func queryTerms(_ text: String) -> [String] { FTSQuery.searchTerms(text) }
    /// Han, kana and Hangul: the scripts this index searches by trigrams (no spaces between words).
    public static func isCJK(_ scalar: Unicode.Scalar) -> Bool { FTSQuery.isCJK(scalar) }

    /// Creates both tables. Throws `trigramUnavailable` (after creating the word table) when this
    /// SQLite has no trigram tokenizer.
    public func createTables(in db: Database) throws {
        try db.execute("""
            CREATE VIRTUAL TABLE IF NOT EXISTS \(Self.wordTable)
                USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')
            """)
        do {
            try db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS \(Self.cjkTable) USING fts5(text, tokenize = 'trigram')")
        } catch let error as SQLiteError where error.message.contains("tokenizer") {
            throw VectorIndexError.trigramUnavailable(sqliteVersion: Database.libraryVersion)
        }
    }

    /// True when the trigram table exists in `db`.
    public func hasTrigramTable(in db: Database) throws -> Bool {
        try db.query("SELECT count(*) FROM sqlite_master WHERE name = ?", .text(Self.cjkTable)) { $0.int(0) } == [1]
    }

    /// Indexes `text` under `chunkID` (replacing an earlier row with that id).
    public func insert(chunkID: Int64, text: String, in db: Database) throws {
        try remove(chunkIDs: [chunkID], in: db)
        try db.run("INSERT INTO \(Self.wordTable)(rowid, text) VALUES (?, ?)", .integer(chunkID), .text(text))
        if FTSQuery.containsCJK(text), try hasTrigramTable(in: db) {
            try db.run("INSERT INTO \(Self.cjkTable)(rowid, text) VALUES (?, ?)", .integer(chunkID), .text(text))
        }
    }

    public func remove(chunkIDs: some Sequence<Int64>, in db: Database) throws {
        let trigram = try hasTrigramTable(in: db)
        let words = try db.prepare("DELETE FROM \(Self.wordTable) WHERE rowid = ?")
        let cjk = trigram ? try db.prepare("DELETE FROM \(Self.cjkTable) WHERE rowid = ?") : nil
        for id in chunkIDs {
            try words.bind(1, id).run()
            try cjk?.bind(1, id).run()
        }
    }

    /// The k best chunks for free user text, BM25-ranked. `allowed` restricts the ids.
    public func search(_ text: String, k: Int, allowed: Set<Int64>? = nil, in db: Database) throws -> [LexicalHit] {
        guard k > 0 else { return [] }
        if FTSQuery.containsCJK(text) {
            guard try hasTrigramTable(in: db) else {
                throw VectorIndexError.trigramUnavailable(sqliteVersion: Database.libraryVersion)
            }
            let (match, short) = FTSQuery.trigramQuery(text)
            if let match { return try ranked(table: Self.cjkTable, match: match, k: k, allowed: allowed, db: db) }
            return try substringSearch(short, k: k, allowed: allowed, db: db)
        }
        guard let match = FTSQuery.wordQuery(text) else { return [] }
        return try ranked(table: Self.wordTable, match: match, k: k, allowed: allowed, db: db)
    }

    private func ranked(table: String, match: String, k: Int, allowed: Set<Int64>?, db: Database) throws -> [LexicalHit] {
        let limit = allowed == nil ? " LIMIT \(k)" : ""
        let stmt = try db.prepare(
            "SELECT rowid, bm25(\(table)) AS rank FROM \(table) WHERE \(table) MATCH ? ORDER BY rank, rowid\(limit)")
        try stmt.bind(1, match)
        var hits: [LexicalHit] = []
        while hits.count < k, try stmt.step() {
            let id = stmt.int64(0)
            if let allowed, !allowed.contains(id) { continue }
            hits.append(LexicalHit(chunkID: id, score: -stmt.double(1)))
        }
        return hits
    }

    /// Runs of one or two CJK characters: substring match, ranked by how many terms occur.
    private func substringSearch(_ terms: [String], k: Int, allowed: Set<Int64>?, db: Database) throws -> [LexicalHit] {
        var matches: [Int64: Int] = [:]
        let stmt = try db.prepare("SELECT rowid FROM \(Self.cjkTable) WHERE text LIKE ? ESCAPE '\\'")
        for term in terms {
            try stmt.bind(1, FTSQuery.likePattern(term))
            while try stmt.step() { matches[stmt.int64(0), default: 0] += 1 }
            stmt.reset()
        }
        return matches
            .filter { allowed?.contains($0.key) ?? true }
            .sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }
            .prefix(k)
            .map { LexicalHit(chunkID: $0.key, score: Double($0.value)) }
    }
}
