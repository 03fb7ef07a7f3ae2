import Foundation

/// Everything that can go wrong while loading a tokenizer or a chat template; each case names the
/// file and field at fault so the message can be shown as is.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case unreadableFile(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case missingField(path: String, field: String)
    case invalidField(path: String, field: String, reason: String)
    case unsupported(path: String, field: String, value: String)
    case unknownChatTemplate(excerpt: String)
    /// A marker the chat template writes (`<|im_start|>` …) is not a control token of the tokenizer.
    case missingControlToken(String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason): return "cannot read tokenizer file \(path): \(reason)"
        case let .invalidJSON(path, reason): return "\(path) is not valid JSON: \(reason)"
        case let .missingField(path, field): return "\(path): missing field `\(field)`"
        case let .invalidField(path, field, reason): return "\(path): field `\(field)` \(reason)"
        case let .unsupported(path, field, value): return "\(path): unsupported `\(field)` = \(value)"
        case let .unknownChatTemplate(excerpt): return "unknown chat template (not ChatML): \(excerpt)"
        case let .missingControlToken(marker): return "the chat template needs the control token `\(marker)`, which the tokenizer does not have"
        }
    }
}

extension TokenizerError {
    init(_ error: JSONFileError) {
        switch error {
        case let .missing(path): self = .unreadableFile(path: path, reason: "no such file")
        case let .unreadable(path, reason): self = .unreadableFile(path: path, reason: reason)
        case let .invalidJSON(path, reason): self = .invalidJSON(path: path, reason: reason)
        case let .missingField(path, field): self = .missingField(path: path, field: field)
        case let .invalidField(path, field, reason): self = .invalidField(path: path, field: field, reason: reason)
        }
    }
}

/// A tokenizer file's top-level object (`JSONFile.object`), its errors as `TokenizerError`.
func readJSONObject(_ url: URL) throws(TokenizerError) -> [String: Any] {
    do { return try JSONFile.object(at: url) } catch { throw TokenizerError(error) }
}
