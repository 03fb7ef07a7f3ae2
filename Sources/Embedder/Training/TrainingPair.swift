import Foundation

/// One contrastive example: a query, a passage that answers it, optionally a hard negative.
public struct TrainingPair: Sendable, Equatable, Hashable, Codable {
    public var query: String
    public var positive: String
    public var negative: String?

    public init(query: String, positive: String, negative: String? = nil) {
        self.query = query; self.positive = positive; self.negative = negative
    }
}

/// What to do with a line of a pairs file that is not a valid pair.
public enum MalformedLinePolicy: Sendable {
    case stop                 // throw, naming the file and line
    case skip                 // leave it out and report a warning
}

public enum TrainingPairs {
    /// Reads JSONL `{"query", "positive", "negative"?}` (blank lines ignored). A malformed line
    /// throws `EmbedderError.malformedLine` (file and 1-based line) or, with `.skip`, is reported
    /// through `warn` and left out. No pairs at all throws `emptyTrainingSet` naming the file.
    public static func load(from url: URL, onMalformed policy: MalformedLinePolicy = .stop,
                            warn: (String) -> Void = { _ in }) throws -> [TrainingPair] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw EmbedderError.missingFile(path: url.path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EmbedderError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        var pairs: [TrainingPair] = []
        var lineNumber = 0
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = line.filter { $0 != UInt8(ascii: "\r") }
            if text.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                pairs.append(try parse(Data(text)))
            } catch let reason as LineError {
                let error = EmbedderError.malformedLine(path: url.path, line: lineNumber, reason: reason.message)
                guard policy == .skip else { throw error }
                warn("skipping \(error)")
            }
        }
        guard !pairs.isEmpty else { throw EmbedderError.emptyTrainingSet("\(url.path) holds no valid pairs") }
        return pairs
    }

    struct LineError: Error { let message: String }

    static func parse(_ line: Data) throws -> TrainingPair {
        guard let object = try? JSONSerialization.jsonObject(with: line) else { throw LineError(message: "not valid JSON") }
        guard let fields = object as? [String: Any] else { throw LineError(message: "not a JSON object") }
        func text(_ key: String) throws -> String? {
            guard let value = fields[key], !(value is NSNull) else { return nil }
            guard let s = value as? String else { throw LineError(message: "`\(key)` is not a string") }
            return s
        }
        guard let query = try text("query"), !query.isEmpty else { throw LineError(message: "missing or empty `query`") }
        guard let positive = try text("positive"), !positive.isEmpty else { throw LineError(message: "missing or empty `positive`") }
        let negative = try text("negative")
        return TrainingPair(query: query, positive: positive, negative: negative?.isEmpty == true ? nil : negative)
    }
}
