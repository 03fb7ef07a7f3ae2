import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle

/// A generation streamed as server-sent events: the generator's token callback feeds an
/// AsyncStream, and the response body writes each piece as one `data:` event. A failed write (the
/// client went away) sets the cancel flag, so the generator stops at its next token.
struct EventStream<Result: Sendable>: Sendable {
    enum Event: Sendable {
        case token(String)
        case finished(Result)
        case failed(any Error)
    }

    /// Builds the events' JSON; each returns the `data:` payloads to send.
    struct Format: Sendable {
        var opening: @Sendable () -> [Data]
        var token: @Sendable (String) -> Data
        var closing: @Sendable (Result) -> [Data]
        var failure: @Sendable (APIError) -> Data
    }

    let ticket: GenerationGate.Ticket
    let slot: GenerationQueue.Slot
    let format: Format
    let onFirstToken: @Sendable () -> Void
    let produce: @Sendable (_ onToken: @escaping @Sendable (String) -> Bool) async throws -> Result

    static var headers: HTTPFields {
        var h = HTTPFields()
        h[.contentType] = "text/event-stream; charset=utf-8"
        h[.cacheControl] = "no-cache"
        h[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return h
    }

    func response() -> Response {
        Response(status: .ok, headers: Self.headers, body: ResponseBody { writer in
            try await withGracefulShutdownHandler {
                try await self.write(&writer)
            } onGracefulShutdown: {
                self.ticket.flag.set(.shutdown)
            }
        })
    }

    private func write(_ writer: inout any ResponseBodyWriter) async throws {
        defer { ticket.finish() }
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let flag = ticket.flag, slot = self.slot, produce = self.produce, onFirstToken = self.onFirstToken
        let generation = Task {
            let first = FirstTime()
            do {
                let result = try await produce { piece in
                    if first.take() { onFirstToken() }
                    continuation.yield(.token(piece))
                    return !flag.isSet
                }
                continuation.yield(.finished(result))
            } catch {
                continuation.yield(.failed(error))
            }
            await slot.release()
            continuation.finish()
        }
        do {
            for payload in format.opening() { try await writer.write(Self.event(payload)) }
            for await event in events {
                switch event {
                case .token(let piece):
                    try await writer.write(Self.event(format.token(piece)))
                case .finished(let result):
                    if let error = GenerationGate.error(for: flag.reason), flag.reason == .timeout {
                        try await writer.write(Self.event(format.failure(error)))
                    }
                    for payload in format.closing(result) { try await writer.write(Self.event(payload)) }
                case .failed(let error):
                    let apiError = (error as? APIError) ?? GenerationGate.error(for: flag.reason) ?? .internalError("Generation failed: \(error)")
                    try await writer.write(Self.event(format.failure(apiError)))
                }
            }
            try await writer.write(Self.event(Data("[DONE]".utf8)))
            try await writer.finish(nil)
        } catch {
            // The client is gone: stop the generator now; its task releases the slot.
            flag.set(.disconnected)
            generation.cancel()
            throw error
        }
    }

    static func event(_ payload: Data) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeString("data: ")
        b.writeBytes(payload)
        b.writeString("\n\n")
        return b
    }
}

/// True exactly once, from any thread.
final class FirstTime: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func take() -> Bool { lock.withLock { defer { done = true }; return !done } }
}
