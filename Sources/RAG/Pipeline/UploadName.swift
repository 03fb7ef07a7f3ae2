import Foundation

/// Turns a client-supplied file name into a safe name inside the uploads folder: the last path
/// component only, no leading dots, only ordinary characters, bounded length.
enum UploadName {
    static func sanitize(_ raw: String) throws -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var name = String(last.unicodeScalars.map { s -> Character in
            let ok = s.properties.isAlphabetic || s.properties.numericType != nil || "._- ()".unicodeScalars.contains(s)
            return ok ? Character(s) : "_"
        })
        while name.hasPrefix(".") { name.removeFirst() }
        name = name.trimmingCharacters(in: .whitespaces)
        if name.count > 200 { name = String(name.suffix(200)) }
        guard !name.isEmpty, name != "..", name != "." else {
            throw RAGError.invalidInput("file name \"\(raw)\" has nothing usable after sanitising")
        }
        return name
    }

    /// Whether a stored upload's name is one `sanitize` could have made (a name read from a base,
    /// which another program may have written, before it becomes a path on this machine).
    static func isSanitized(_ name: String) -> Bool { (try? sanitize(name)) == name }
}
