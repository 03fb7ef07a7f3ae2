/// Errors of the vector and lexical indexes, each naming what was wrong.
public enum VectorIndexError: Error, CustomStringConvertible, Sendable, Equatable {
    case dimensionMismatch(expected: Int, got: Int, label: Int64?)
    case nonFiniteValue(label: Int64?, position: Int)
    case zeroVector(label: Int64?)
    case duplicateLabel(Int64)
    case unknownLabel(Int64)
    case invalidParameter(String)
    case corruptStore(String)
    case trigramUnavailable(sqliteVersion: String)

    public var description: String {
        switch self {
        case .dimensionMismatch(let e, let g, let label):
            return "vector\(label.map { " for label \($0)" } ?? "") has dimension \(g), index expects \(e)"
        case .nonFiniteValue(let label, let p):
            return "vector\(label.map { " for label \($0)" } ?? "") has a non-finite value at position \(p)"
        case .zeroVector(let label):
            return "vector\(label.map { " for label \($0)" } ?? "") is all zeros and cannot be normalised for cosine"
        case .duplicateLabel(let l): return "label \(l) is already in the index"
        case .unknownLabel(let l): return "label \(l) is not in the index"
        case .invalidParameter(let m): return "invalid parameter: \(m)"
        case .corruptStore(let m): return "stored vector index is corrupt: \(m)"
        case .trigramUnavailable(let v):
            return "SQLite \(v) lacks the FTS5 trigram tokenizer (needs 3.34+ built with FTS5): CJK lexical search is unavailable"
        }
    }
}
