import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Where the CLI writes: results to stdout, progress and errors to stderr.
enum Console {
    static let stderrIsTTY = isatty(STDERR_FILENO) != 0
    static let stdoutIsTTY = isatty(STDOUT_FILENO) != 0

    static func out(_ text: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((text + terminator).utf8))
    }

    /// Writes without a newline and flushes at once (streamed tokens).
    static func stream(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func err(_ text: String, terminator: String = "\n") {
        FileHandle.standardError.write(Data((text + terminator).utf8))
    }

    /// Pretty JSON with stable key order (`compact`: one line, for JSONL).
    static func json<T: Encodable>(_ value: T, compact: Bool = false) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(value)
        out(String(decoding: data, as: UTF8.self))
    }
}
