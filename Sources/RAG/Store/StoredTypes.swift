import Foundation

/// A document row as the sync compares it with the folder.
public struct StoredDocument: Sendable, Equatable {
    public var id: Int64
    public var path: String
    public var source: String
    public var bytes: Int64
    public var mtimeNanoseconds: Int64
    public var contentHash: String
}

/// A chunk row joined with its document's path, for building hits and prompts.
public struct StoredChunk: Sendable, Equatable {
    public var id: Int64
    public var documentID: Int64
    public var path: String
    public var page: Int?
    public var section: String?
    public var text: String
}

/// What the embedder is; recorded in the base so vectors of different models never mix.
public struct EmbedderIdentity: Sendable, Equatable {
    public var name: String
    public var dimension: Int
    public init(name: String, dimension: Int) { self.name = name; self.dimension = dimension }

    /// Refuses to open a base whose recorded embedder (in `settings`) is another, saying what to do.
    /// False when the base has none recorded yet (the caller records this one).
    func matchesRecorded(_ settings: [String: String], base: String) throws -> Bool {
        guard let recorded = settings["embedder"], let dim = settings["dimension"].flatMap(Int.init) else { return false }
        if recorded != name || dim != dimension {
            throw RAGError.embedderMismatch("""
                \(base) was embedded with \(recorded) (\(dim) dimensions), not \(name) (\(dimension)). \
                Use --embedder with the model it was built with, or re-embed it: rag reembed --db \(base) --embedder PATH
                """)
        }
        return true
    }
}

/// A new version of one document, ready to be written in one transaction.
public struct DocumentRecord: Sendable {
    public var path: String
    public var source: String
    public var kind: String
    public var bytes: Int64
    public var mtimeNanoseconds: Int64
    public var contentHash: String
    public var pages: Int?
    public var title: String?
    public var chunks: [ChunkRecord]
    public init(path: String, source: String, kind: String, bytes: Int64, mtimeNanoseconds: Int64, contentHash: String,
                pages: Int?, title: String?, chunks: [ChunkRecord]) {
        self.path = path; self.source = source; self.kind = kind; self.bytes = bytes
        self.mtimeNanoseconds = mtimeNanoseconds; self.contentHash = contentHash
        self.pages = pages; self.title = title; self.chunks = chunks
    }
}

public struct ChunkRecord: Sendable {
    public var text: String
    public var page: Int?
    public var section: String?
    public var charStart: Int
    public var charEnd: Int
    public var tokens: Int
    public var vector: [Float]
    public init(text: String, page: Int?, section: String?, charStart: Int, charEnd: Int, tokens: Int, vector: [Float]) {
        self.text = text; self.page = page; self.section = section
        self.charStart = charStart; self.charEnd = charEnd; self.tokens = tokens; self.vector = vector
    }
}
