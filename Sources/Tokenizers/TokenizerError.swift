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

/// Reads a JSON object from a file, with errors that name the file.
func readJSONObject(_ url: URL) throws -> [String: Any] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch {
        throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
    }
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
        throw TokenizerError.invalidJSON(path: url.path, reason: error.localizedDescription)
    }
    guard let dictionary = object as? [String: Any] else {
        throw TokenizerError.invalidJSON(path: url.path, reason: "top level is not an object")
    }
    return dictionary
}
