import Foundation
import PostgresNIO

/// postgres-nio's errors as messages a user can act on. (PSQLError's own description hides the
/// server's message on purpose; the store names the database and says what to do.)
enum PostgresErrors {
    /// SQLSTATE codes the store explains (PostgreSQL's errcodes.txt).
    enum State {
        static let invalidPassword = "28P01"
        static let invalidAuthorization = "28000"
        static let unknownDatabase = "3D000"
        static let undefinedFile = "58P01"          // CREATE EXTENSION vector on a server without pgvector
        static let insufficientPrivilege = "42501"
    }

    static func describe(_ e: PSQLError, _ location: PostgresLocation) -> RAGError {
        let where_ = location.redacted
        switch e.code {
        case .server:
            let state = e.serverInfo?[.sqlState] ?? ""
            let message = e.serverInfo?[.message] ?? "server error"
            let detail = e.serverInfo?[.detail].map { " (\($0))" } ?? ""
            switch state {
            case State.invalidPassword, State.invalidAuthorization:
                return .store("\(where_): \(message): check the password (in the URL, PGPASSWORD or ~/.pgpass) and the user")
            case State.unknownDatabase:
                return .store("\(where_): \(message): create it first (createdb \(location.database))")
            default:
                return .store("\(where_): \(message)\(detail) [SQLSTATE \(state)]")
            }
        case .connectionError:
            let reason = e.underlying.map { "\($0)" } ?? "no answer"
            return .store("\(where_): cannot connect to \(location.host):\(location.port) (\(reason)); is PostgreSQL running there?")
        case .authMechanismRequiresPassword:
            return .store("\(where_): the server asks for a password: put it in the URL, PGPASSWORD or ~/.pgpass")
        case .sslUnsupported:
            return .store("\(where_): the server does not offer TLS, which sslmode=\(location.tls.rawValue) requires")
        case .serverClosedConnection, .clientClosedConnection:
            return .store("\(where_): the connection was closed (\(e.underlying.map { "\($0)" } ?? "by the server"))")
        default:
            return .store("\(where_): \(e.code)\(e.underlying.map { ": \($0)" } ?? "")")
        }
    }

    /// The server's SQLSTATE of a failure, when it came from the server.
    static func state(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}
