import Foundation

/// A PostgreSQL database named by a URL: `postgres://user[:password]@host[:port]/dbname[?sslmode=…]`
/// (also `postgresql://`). The password comes from the URL, else `PGPASSWORD`, else `~/.pgpass`
/// (or `PGPASSFILE`), as libpq finds it. `sslmode`: `disable`, `prefer` (libpq's default: TLS when
/// the server offers it), `require` (TLS, certificate not checked, as libpq), `verify-full`
/// (TLS with the certificate checked against the system's roots and the host name). Other query
/// parameters are refused, so a typo is not silently ignored.
public struct PostgresLocation: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable { case disable, prefer, require, verifyFull = "verify-full" }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// The text-search configuration of the documents' language (`?text_search=german`; default
    /// english), used beside `simple` when a base is created.
    public var textSearch: String
    /// The most connections one process opens at once (`?pool_size=N`, default 16); more
    /// concurrent calls wait for one to be free, so a busy server never exhausts the database's
    /// max_connections (100 by default, shared by every server).
    public var poolSize: Int

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw RAGError.invalidInput("\(Self.redact(text)): not a PostgreSQL URL (postgres://user[:password]@host[:port]/dbname)")
        }
        guard let host = url.host, !host.isEmpty else {
            throw RAGError.invalidInput("\(Self.redact(text)): no host (postgres://user@host:5432/dbname)")
        }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw RAGError.invalidInput("\(Self.redact(text)): no database name after the host (postgres://user@host:5432/dbname)")
        }
        self.host = host
        self.port = url.port ?? 5432
        self.database = database.removingPercentEncoding ?? database
        self.user = url.user?.removingPercentEncoding ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        for item in url.queryItems ?? [] where !["sslmode", "text_search", "pool_size"].contains(item.name) {
            throw RAGError.invalidInput("\(Self.redact(text)): unknown parameter \(item.name) (known: sslmode, text_search, pool_size)")
        }
        let pool = url.queryItems?.first(where: { $0.name == "pool_size" })?.value ?? "16"
        guard let size = Int(pool), (1...1000).contains(size) else {
            throw RAGError.invalidInput("\(Self.redact(text)): pool_size=\(pool): give a number of connections from 1 to 1000")
        }
        poolSize = size
        let mode = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? environment["PGSSLMODE"] ?? "prefer"
        switch mode {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer
        case "require", "verify-ca": tls = .require
        case "verify-full": tls = .verifyFull
        default:
            throw RAGError.invalidInput("\(Self.redact(text)): sslmode=\(mode) (use disable, prefer, require or verify-full)")
        }
        textSearch = url.queryItems?.first(where: { $0.name == "text_search" })?.value ?? "english"
        guard !textSearch.isEmpty, textSearch.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) else {
            throw RAGError.invalidInput("\(Self.redact(text)): text_search=\(textSearch): not a text-search configuration name")
        }
        if let p = url.password?.removingPercentEncoding {
            password = p
        } else if let p = environment["PGPASSWORD"] {
            password = p
        } else {
            let file = environment["PGPASSFILE"] ?? (NSHomeDirectory() + "/.pgpass")
            password = Self.passwordFile(file, host: host, port: self.port, database: self.database, user: self.user)
        }
    }

    /// The URL with its password left out, for messages and logs.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    static func redact(_ text: String) -> String {
        guard var c = URLComponents(string: text), c.password != nil else { return text }
        c.password = "***"
        return c.string ?? "postgres://…"
    }

    /// The first matching line of a `.pgpass` file (`host:port:database:user:password`, `*` matches
    /// anything, `\:` and `\\` escaped); libpq ignores the file unless only its owner may read it.
    static func passwordFile(_ path: String, host: String, port: Int, database: String, user: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o077 == 0,
              let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = splitEscaped(String(line))
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    private static func splitEscaped(_ line: String) -> [String] {
        var fields: [String] = [], current = "", escaped = false
        for ch in line {
            if escaped { current.append(ch); escaped = false }
            else if ch == "\\" { escaped = true }
            else if ch == ":" { fields.append(current); current = "" }
            else { current.append(ch) }
        }
        fields.append(current)
        return fields
    }
}
