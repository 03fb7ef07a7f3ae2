// Reading a training data file: JSONL (one object per line) or one JSON array of objects, each
// object with where it came from (file:line, or file item N), so that bad data is reported there.

import Foundation

public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The data file is unreadable, malformed, empty, or a record lacks a field.
    case data(String)
    /// Options that do not fit together or do not fit the model.
    case options(String)
    /// A checkpoint that cannot be written or resumed.
    case checkpoint(String)

    public var description: String {
        switch self {
        case .data(let m): return "training data: \(m)"
        case .options(let m): return "training options: \(m)"
        case .checkpoint(let m): return "checkpoint: \(m)"
        }
    }
}

/// One JSON object of a data file and where it is.
struct DataRecord {
    let location: String
    let object: [String: Any]

    /// An error naming this record's place and a field.
    func fail(_ field: String, _ why: String) -> TrainingError {
        .data("\(location): field '\(field)' \(why)")
    }

    func string(_ field: String) throws -> String {
        guard let value = object[field] else { throw fail(field, "is missing") }
        guard let s = value as? String else { throw fail(field, "must be a string") }
        return s
    }

    func optionalString(_ field: String) throws -> String? {
        guard let value = object[field], !(value is NSNull) else { return nil }
        guard let s = value as? String else { throw fail(field, "must be a string") }
        return s
    }
}

enum DataRecords {
    /// Every object in `url`: CSV rows (`.csv`) as {"text", "label"}, a JSON array when the file
    /// starts with `[`, else JSONL (blank lines skipped).
    static func read(_ url: URL) throws -> [DataRecord] {
        if url.pathExtension.lowercased() == "csv" { return try readCSV(url) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TrainingError.data("\(url.path): cannot read (\(error.localizedDescription))")
        }
        let name = url.lastPathComponent
        let firstByte = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF) }
        var records: [DataRecord] = []
        if firstByte == UInt8(ascii: "[") {
            let parsed: Any
            do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
                throw TrainingError.data("\(name): not valid JSON (\(Self.reason(error)))")
            }
            guard let array = parsed as? [Any] else { throw TrainingError.data("\(name): the top level is not an array") }
            for (i, item) in array.enumerated() {
                guard let object = item as? [String: Any] else {
                    throw TrainingError.data("\(name) item \(i + 1): not a JSON object")
                }
                records.append(DataRecord(location: "\(name) item \(i + 1)", object: object))
            }
        } else {
            guard let text = String(data: data, encoding: .utf8) else { throw TrainingError.data("\(name): not UTF-8 text") }
            var lineNumber = 0
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                lineNumber += 1
                let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
                if trimmed.isEmpty { continue }
                let parsed: Any
                do { parsed = try JSONSerialization.jsonObject(with: Data(trimmed.utf8)) } catch {
                    throw TrainingError.data("\(name):\(lineNumber): malformed JSON (\(Self.reason(error)))")
                }
                guard let object = parsed as? [String: Any] else {
                    throw TrainingError.data("\(name):\(lineNumber): not a JSON object")
                }
                records.append(DataRecord(location: "\(name):\(lineNumber)", object: object))
            }
        }
        guard !records.isEmpty else { throw TrainingError.data("\(name): the dataset is empty") }
        return records
    }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }

    /// CSV of text,label rows (RFC 4180 quoting: "…" with "" inside; a quoted field may span lines).
    /// A first row `text,label` is a header. The label is the last column, the text the first.
    static func readCSV(_ url: URL) throws -> [DataRecord] {
        let name = url.lastPathComponent
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TrainingError.data("\(name): cannot read as UTF-8 text (\(error.localizedDescription))")
        }
        var rows: [(line: Int, fields: [String])] = []
        var field = "", fields: [String] = [], quoted = false, line = 1, rowLine = 1
        var chars = Array(text.unicodeScalars)[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        var i = chars.startIndex
        func endRow() {
            fields.append(field); field = ""
            if !(fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty) { rows.append((rowLine, fields)) }
            fields = []
        }
        while i < chars.endIndex {
            let c = chars[i]
            if quoted {
                if c == "\"" {
                    if chars.index(after: i) < chars.endIndex, chars[chars.index(after: i)] == "\"" { field.unicodeScalars.append("\""); i = chars.index(after: i) } else { quoted = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                fields.append(field); field = ""
            } else if c == "\n" || c == "\r" {
                if c == "\r", chars.index(after: i) < chars.endIndex, chars[chars.index(after: i)] == "\n" { i = chars.index(after: i) }
                endRow(); line += 1; rowLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            i = chars.index(after: i)
        }
        if quoted { throw TrainingError.data("\(name):\(rowLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRow() }
        if let first = rows.first, first.fields.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) == ["text", "label"] { rows.removeFirst() }
        guard !rows.isEmpty else { throw TrainingError.data("\(name): the dataset is empty") }
        return try rows.map { row in
            guard row.fields.count >= 2 else {
                throw TrainingError.data("\(name):\(row.line): expected text,label but found \(row.fields.count) column (the label column is absent)")
            }
            let label = row.fields[row.fields.count - 1].trimmingCharacters(in: .whitespaces)
            guard !label.isEmpty else { throw TrainingError.data("\(name):\(row.line): field 'label' is empty") }
            return DataRecord(location: "\(name):\(row.line)", object: ["text": row.fields[0], "label": label])
        }
    }
}
