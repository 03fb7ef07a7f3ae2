import Foundation

/// The JSON files of a Hugging Face model folder (tokenizer.json, config.json, sentence-transformers'
/// configs, …), read in one place with errors that name the file and the field. Tokenizers reads
/// most of them; Embedder and Generator read their configs through it.
public enum JSONFile {
    /// The file's top-level object, for files whose shape varies (tokenizer.json).
    public static func object(at url: URL) throws(JSONFileError) -> [String: Any] {
        let data = try contents(of: url)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw .invalidJSON(path: url.path, reason: error.localizedDescription)
        }
        guard let dictionary = object as? [String: Any] else {
            throw .invalidJSON(path: url.path, reason: "top level is not an object")
        }
        return dictionary
    }

    /// The file decoded as `T`, whose `Decodable` conformance states the schema; a field of the
    /// wrong type is named by its path in the file (`rope_scaling.rope_type`, `modules[2].path`).
    public static func decode<T: Decodable>(_ type: T.Type, from url: URL) throws(JSONFileError) -> T {
        let data = try contents(of: url)
        do { return try JSONDecoder().decode(T.self, from: data) } catch let error as DecodingError {
            throw JSONFileError(error, path: url.path)
        } catch {
            throw .invalidJSON(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func contents(of url: URL) throws(JSONFileError) -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missing(path: url.path) }
        do { return try Data(contentsOf: url) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
    }
}

/// What can be wrong with a JSON file; each module folds it into its own error type.
public enum JSONFileError: Error, CustomStringConvertible, Equatable {
    case missing(path: String)
    case unreadable(path: String, reason: String)
    case invalidJSON(path: String, reason: String)
    case missingField(path: String, field: String)
    case invalidField(path: String, field: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "missing file \(path)"
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .invalidJSON(path, reason): return "\(path) is not valid JSON: \(reason)"
        case let .missingField(path, field): return "\(path): missing field `\(field)`"
        case let .invalidField(path, field, reason): return "\(path): field `\(field)` \(reason)"
        }
    }

    init(_ error: DecodingError, path: String) {
        func field(_ codingPath: [any CodingKey]) -> String {
            var name = ""
            for key in codingPath {
                if let index = key.intValue { name += "[\(index)]" } else { name += (name.isEmpty ? "" : ".") + key.stringValue }
            }
            return name
        }
        switch error {
        case let .keyNotFound(key, context):
            self = .missingField(path: path, field: field(context.codingPath + [key]))
        case let .typeMismatch(type, context) where context.codingPath.isEmpty:
            self = .invalidJSON(path: path, reason: "top level must be \(Self.describe(type))")
        case let .typeMismatch(type, context):
            self = .invalidField(path: path, field: field(context.codingPath), reason: "must be \(Self.describe(type))")
        case let .valueNotFound(type, context):
            self = .invalidField(path: path, field: field(context.codingPath), reason: "must be \(Self.describe(type)), not null")
        case let .dataCorrupted(context) where context.codingPath.isEmpty:
            self = .invalidJSON(path: path, reason: context.debugDescription)
        case let .dataCorrupted(context):
            self = .invalidField(path: path, field: field(context.codingPath), reason: context.debugDescription)
        @unknown default:
            self = .invalidJSON(path: path, reason: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is String.Type: return "a string"
        case is [Any].Type: return "a list"
        default: return "a \(type)"
        }
    }
}
