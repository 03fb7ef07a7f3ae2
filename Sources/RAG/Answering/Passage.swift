/// A retrieved chunk as the prompt and the front ends see it, numbered from 1 in prompt order.
public struct Passage: Sendable, Codable, Equatable {
    public var n: Int
    public var file: String
    public var page: Int?
    public var section: String?
    public var score: Double
    public var text: String
    public var chunkID: Int64
    /// The document the passage comes from (`GET /v1/documents/{id}` serves its file).
    public var documentID: Int64?

    public init(n: Int, file: String, page: Int?, section: String?, score: Double, text: String, chunkID: Int64,
                documentID: Int64? = nil) {
        self.n = n; self.file = file; self.page = page; self.section = section
        self.score = score; self.text = text; self.chunkID = chunkID; self.documentID = documentID
    }

    enum CodingKeys: String, CodingKey {
        case n, file, page, section, score, text
        case chunkID = "chunk_id", documentID = "document_id"
    }

    /// "guide.pdf, page 3, Setup" — how a source is named to the model and to people.
    public var label: String {
        var parts = [file]
        if let page { parts.append("page \(page)") }
        if let section, !section.isEmpty { parts.append(section) }
        return parts.joined(separator: ", ")
    }
}
