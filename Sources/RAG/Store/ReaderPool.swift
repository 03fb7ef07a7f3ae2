import Foundation
import VectorIndex

/// Read-only connections for concurrent searches: each call borrows one (opening it on first
/// need) and returns it. WAL mode gives each read its own consistent snapshot.
final class ReaderPool: @unchecked Sendable {
    private let path: String
    private var idle: [Database] = []
    private let lock = NSLock()

    init(path: String) { self.path = path }

    func with<T>(_ body: (Database) throws -> T) throws -> T {
        lock.lock()
        let db = idle.popLast()
        lock.unlock()
        let conn = try db ?? Database(path: path, mode: .readOnly)
        defer {
            lock.lock()
            if idle.count < 8 { idle.append(conn) }
            lock.unlock()
        }
        return try conn.readTransaction { try body(conn) }
    }
}
