import Foundation

/// A flag set from any thread (a closed connection, a timeout, shutdown) and read by the
/// generator's token callback, which must answer synchronously.
public final class CancelFlag: @unchecked Sendable {
    public enum Reason: String, Sendable { case disconnected, timeout, shutdown }
    private let lock = NSLock()
    private var _reason: Reason?
    private var handlers: [@Sendable () -> Void] = []

    public init() {}

    public var reason: Reason? { lock.withLock { _reason } }
    public var isSet: Bool { reason != nil }

    /// The first reason wins; later ones are ignored.
    public func set(_ reason: Reason) {
        let toRun: [@Sendable () -> Void] = lock.withLock {
            guard _reason == nil else { return [] }
            _reason = reason
            defer { handlers = [] }
            return handlers
        }
        toRun.forEach { $0() }
    }

    /// Runs `handler` once when the flag is set (at once if it already is).
    public func onSet(_ handler: @escaping @Sendable () -> Void) {
        let runNow: Bool = lock.withLock {
            if _reason != nil { return true }
            handlers.append(handler)
            return false
        }
        if runNow { handler() }
    }
}
