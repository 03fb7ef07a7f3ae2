import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// A small pool of PostgreSQL connections for the synchronous store calls.
///
/// The store's methods are synchronous (the pipeline runs them on its own threads), so the pool
/// uses postgres-nio's EventLoopFuture interface and waits on the futures: the work happens on
/// NIO's event-loop threads, never on Swift's cooperative pool, so a caller that blocks cannot
/// starve the tasks it waits for. Each call borrows an idle connection (opening one when none is
/// idle, up to the location's pool size; beyond it, calls wait) and gives it back; a connection
/// the server or the network closed is dropped.
final class PostgresPool: @unchecked Sendable {
    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private var idle: [PostgresConnection] = []
    private var opened = 0
    private let lock = NSLock()
    /// Connections kept open between calls.
    let maxIdle: Int
    /// One permit per connection that may be open at once.
    private let permits: DispatchSemaphore

    init(location: PostgresLocation, maxIdle: Int = 8) throws {
        self.location = location
        self.maxIdle = min(maxIdle, location.poolSize)
        permits = DispatchSemaphore(value: location.poolSize)
        var logger = Logger(label: "rag.postgres")
        logger.logLevel = .critical
        self.logger = logger
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: tls = .disable
            case .prefer, .require:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none  // libpq's prefer/require encrypt without checking the certificate
                let context = try NIOSSLContext(configuration: c)
                tls = location.tls == .prefer ? .prefer(context) : .require(context)
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw RAGError.store("\(location.redacted): cannot set up TLS: \(error)")
        }
        configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: location.password, database: location.database, tls: tls)
    }

    deinit {
        for c in idle { let _: EventLoopFuture<Void> = c.close() }
    }

    /// Runs `body` on a borrowed connection.
    func with<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try take()
        defer { giveBack(connection) }
        do {
            return try body(PostgresSession(connection: connection, logger: logger))
        } catch let e as PSQLError {
            throw PostgresErrors.describe(e, location)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try with { session in
            try session.execute("BEGIN")
            do {
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
        }
    }

    private func take() throws -> PostgresConnection {
        permits.wait()
        do { return try open() } catch {
            permits.signal()
            throw error
        }
    }

    private func open() throws -> PostgresConnection {
        lock.lock()
        while let c = idle.popLast() {
            if !c.isClosed { lock.unlock(); return c }
        }
        opened += 1
        let id = opened
        lock.unlock()
        do {
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration,
                                                  id: id, logger: logger).wait()
        } catch let e as PSQLError {
            throw PostgresErrors.describe(e, location)
        } catch {
            throw RAGError.store("\(location.redacted): cannot connect to \(location.host):\(location.port) (\(error)); is PostgreSQL running there?")
        }
    }

    private func giveBack(_ connection: PostgresConnection) {
        defer { permits.signal() }
        lock.lock()
        if !connection.isClosed && idle.count < maxIdle {
            idle.append(connection)
            lock.unlock()
        } else {
            lock.unlock()
            if !connection.isClosed { let _: EventLoopFuture<Void> = connection.close() }
        }
    }
}

/// One borrowed connection: runs SQL with positional parameters ($1, $2, …) and waits for the rows.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func query(_ sql: String, _ values: PGValue...) throws -> [PostgresRow] {
        try query(sql, values)
    }

    func query(_ sql: String, _ values: [PGValue]) throws -> [PostgresRow] {
        var binds = PostgresBindings(capacity: values.count)
        for v in values { try v.append(to: &binds) }
        return try connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger).wait().rows
    }

    /// Runs one statement without parameters.
    func execute(_ sql: String) throws {
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
    }
}

/// A parameter value, as the store's SQL binds them.
enum PGValue {
    case int(Int64), text(String), double(Double), null
    /// A float4[] (cast to `vector` in the SQL: `$1::real[]::vector`).
    case floats([Float])
    /// A bigint[] (`= ANY($1)`).
    case ints([Int64])
    /// A text[].
    case texts([String])
    /// A bytea.
    case bytes(Data)

    static func int(_ v: Int) -> PGValue { .int(Int64(v)) }
    static func optional(_ v: Int?) -> PGValue { v.map { .int(Int64($0)) } ?? .null }
    static func optional(_ v: String?) -> PGValue { v.map { .text($0) } ?? .null }

    func append(to binds: inout PostgresBindings) throws {
        switch self {
        case .int(let v): try binds.append(v)
        case .text(let v): try binds.append(v)
        case .double(let v): try binds.append(v)
        case .null: binds.appendNull()
        case .floats(let v): try binds.append(v)
        case .ints(let v): try binds.append(v)
        case .texts(let v): try binds.append(v)
        case .bytes(let v): try binds.append(v)
        }
    }
}
