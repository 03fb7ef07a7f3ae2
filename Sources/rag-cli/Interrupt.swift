import Dispatch
import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Ctrl-C during generation: the first press asks generation to stop at the next token (the
/// command then ends cleanly); a second press before `reset()` exits at once.
final class Interrupt: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    private var source: DispatchSourceSignal?

    var fired: Bool { lock.lock(); defer { lock.unlock() }; return count > 0 }

    func reset() { lock.lock(); count = 0; lock.unlock() }

    /// The process-wide handler, installed on first use.
    static let shared: Interrupt = {
        let i = Interrupt()
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler { [i] in
            i.lock.lock(); i.count += 1; let n = i.count; i.lock.unlock()
            if n > 1 { exit(130) }
        }
        s.resume()
        i.source = s
        return i
    }()

    static func install() -> Interrupt {
        shared.reset()
        return shared
    }
}
