/// What a retrieval is for, which sets how many hits it may ask for. The one rule every front end
/// applies (before any work starts, so a bad `k` is refused at once) and the pipeline applies again.
public enum RetrievalUse: Sendable {
    /// A list a person reads or a client reranks: `rag search`, `POST /v1/retrieve`.
    case search
    /// Passages placed in the prompt beside the question: `rag ask`, `rag chat`, chat completions.
    case answer

    /// The largest `k`. Searching returns references, so a long list is cheap; an answer's passages
    /// must fit the generator's context (a few thousand tokens at 256 tokens a chunk), so more than
    /// 50 would only be dropped again by the prompt budget.
    public var maxK: Int {
        switch self {
        case .search: return 1000
        case .answer: return 50
        }
    }
}

extension SearchOptions {
    /// Why `k` is not allowed for `use`, phrased to follow the name a front end gives the field
    /// (`--k`, `k`, `rag.k`): "must be between 1 and 50"; nil when it is allowed.
    public func kProblem(for use: RetrievalUse) -> String? {
        (1...use.maxK).contains(k) ? nil : "must be between 1 and \(use.maxK)"
    }

    /// Throws `RAGError.invalidInput` ("k must be between 1 and …") when `k` is out of range for `use`.
    func check(for use: RetrievalUse) throws {
        if let problem = kProblem(for: use) { throw RAGError.invalidInput("k \(problem)") }
    }
}
