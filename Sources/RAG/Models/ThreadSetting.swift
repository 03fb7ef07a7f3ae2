import Foundation
import Tensor

/// How many threads the models compute on: `RAG_THREADS`, or all cores. The front ends apply it
/// once at start; the tensor core itself reads no environment.
public enum ThreadSetting {
    public static let variable = "RAG_THREADS"

    /// The count `RAG_THREADS` asks for (nil when unset or empty); anything but a positive integer is an error.
    public static func requested(in environment: [String: String]) throws -> Int? {
        guard let value = environment[variable]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        guard let n = Int(value), n > 0 else {
            throw RAGError.invalidInput("\(variable)=\(value): expected a positive number of threads (or unset for all cores)")
        }
        return n
    }

    public static func apply(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        Threads.use(try requested(in: environment))
    }
}
