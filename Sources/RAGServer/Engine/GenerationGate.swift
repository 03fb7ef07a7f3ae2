import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

/// Everything a generation goes through besides the model: the bounded queue, the request
/// timeout, the client's connection and the server's shutdown. Each of the last three sets the
/// request's `CancelFlag`, which the token callback reads, so the slot frees at the next token.
public struct GenerationGate: Sendable {
    public let queue: GenerationQueue
    public let timeout: Double

    public init(queue: GenerationQueue, timeout: Double) {
        self.queue = queue; self.timeout = timeout
    }

    /// A cancel flag tied to this request's connection and deadline. Call `finish()` when done.
    public final class Ticket: Sendable {
        public let flag = CancelFlag()
        let timer: Task<Void, Never>
        let channel: any Channel
        let watcher: DisconnectWatcher

        init(channel: any Channel, timeout: Double) {
            let flag = self.flag
            self.channel = channel
            watcher = DisconnectWatcher(flag: flag)
            channel.pipeline.addHandler(watcher, position: .first).whenFailure { [weak flag] _ in flag?.set(.disconnected) }
            timer = Task { [weak flag] in
                try? await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                if !Task.isCancelled { flag?.set(.timeout) }
            }
        }

        public func finish() {
            timer.cancel()
            channel.pipeline.removeHandler(watcher, promise: nil)
        }
        deinit { finish() }
    }

    public func ticket(for channel: any Channel) -> Ticket { Ticket(channel: channel, timeout: timeout) }

    /// Waits for a slot, turning the queue's refusals into the statuses clients expect.
    public func acquire(_ ticket: Ticket) async throws -> GenerationQueue.Slot {
        do {
            return try await withGracefulShutdownHandler {
                try await queue.acquire(cancel: ticket.flag)
            } onGracefulShutdown: {
                ticket.flag.set(.shutdown)
            }
        } catch is GenerationQueue.Full {
            throw APIError.queueFull(retryAfter: max(1, Int(timeout / 10)))
        } catch is GenerationQueue.Abandoned {
            throw Self.error(for: ticket.flag.reason) ?? CancellationError()
        }
    }

    /// Queue, run, release: for responses that are sent whole.
    public func run<T: Sendable>(_ ticket: Ticket, _ body: @Sendable (CancelFlag) async throws -> T) async throws -> T {
        defer { ticket.finish() }
        let slot = try await acquire(ticket)
        let result: T
        do {
            result = try await withGracefulShutdownHandler {
                try await body(ticket.flag)
            } onGracefulShutdown: {
                ticket.flag.set(.shutdown)
            }
        } catch {
            await slot.release()
            throw error
        }
        await slot.release()
        if ticket.flag.reason == .timeout { throw APIError.timeout(seconds: timeout) }
        return result
    }

    static func error(for reason: CancelFlag.Reason?) -> APIError? {
        switch reason {
        case .timeout: return .unavailable("The request waited longer than the request timeout.", code: "timeout")
        case .shutdown: return .unavailable("The server is shutting down.", code: "shutting_down")
        case .disconnected, nil: return nil
        }
    }
}
