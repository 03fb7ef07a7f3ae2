import Foundation

/// Everything that can go wrong loading, running or training an encoder; each case names the file,
/// field, tensor or line at fault so the message can be shown as is. A JSON file of the model
/// folder that cannot be read or decoded throws Tokenizers' `JSONFileError`, which does the same.
public enum EmbedderError: Error, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case unreadableFile(path: String, reason: String)
    case missingField(path: String, field: String)
    case invalidField(path: String, field: String, reason: String)
    case unsupportedArchitecture(path: String, field: String, value: String)
    case weights(path: String, reason: String)
    case malformedLine(path: String, line: Int, reason: String)
    case emptyTrainingSet(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .missingFile(path): return "missing model file \(path)"
        case let .unreadableFile(path, reason): return "cannot read \(path): \(reason)"
        case let .missingField(path, field): return "\(path): missing field `\(field)`"
        case let .invalidField(path, field, reason): return "\(path): field `\(field)` \(reason)"
        case let .unsupportedArchitecture(path, field, value):
            return "\(path): unsupported architecture `\(field)` = \(value) (only BERT encoders are supported)"
        case let .weights(path, reason): return "\(path): \(reason)"
        case let .malformedLine(path, line, reason): return "\(path):\(line): \(reason)"
        case let .emptyTrainingSet(why): return "empty training set: \(why)"
        case let .invalidArgument(why): return "invalid argument: \(why)"
        }
    }
}


/// Writes a JSON object with sorted keys and indentation (Hugging Face files are human-readable).
func writeJSONObject(_ object: [String: Any], to url: URL) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    try data.write(to: url, options: .atomic)
}
