import Foundation

/// Thread count for the tensor core: `RAG_THREADS`, or all cores.
public enum Threads {
    public static let count: Int = {
        if let s = ProcessInfo.processInfo.environment["RAG_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()
}
