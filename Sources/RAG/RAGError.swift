/// Errors the pipeline reports to the front ends; each message names the file, field or setting at fault.
public enum RAGError: Error, CustomStringConvertible, Equatable {
    case modelMissing(String)
    case invalidInput(String)
    case store(String)
    case embedderMismatch(String)

    public var description: String {
        switch self {
        case .modelMissing(let m): return m
        case .invalidInput(let m): return m
        case .store(let m): return "knowledge base: \(m)"
        case .embedderMismatch(let m): return m
        }
    }
}
