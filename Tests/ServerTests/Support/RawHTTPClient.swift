import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 client over a blocking POSIX socket: it sends exactly what a test says
/// (malformed JSON, oversized bodies, multipart), reads chunked bodies piece by piece (for
/// server-sent events) and can hang up mid-stream. Blocking calls run on GCD threads, never on the
/// cooperative pool that the in-process server's handlers need.
final class RawHTTPConnection: @unchecked Sendable {
    struct Head { var status: Int; var headers: [String: String] }
    enum ClientError: Error, CustomStringConvertible {
        case connect(Int32), io(String), malformed(String), timedOut
        var description: String {
            switch self {
            case .connect(let e): return "connect failed errno \(e)"; case .io(let m): return "io: \(m)"; case .malformed(let m): return "malformed response: \(m)"
            case .timedOut: return "timed out"
            }
        }
    }

    private var fd: Int32
    private var buffer: [UInt8] = []
    private var chunked = false
    private var remaining: Int?      // content-length left, nil = read to EOF
    private var finished = false

    init(port: Int, timeoutSeconds: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connect(errno) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { let e = errno; close(fd); throw ClientError.connect(e) }
    }

    deinit { if fd >= 0 { close(fd) } }

    func hangUp() { if fd >= 0 { close(fd); fd = -1 } }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw errno == EAGAIN || errno == EWOULDBLOCK ? ClientError.timedOut : ClientError.io("send errno \(errno)") }
            sent += n
        }
    }

    func sendRequest(method: String, path: String, headers: [String: String], body: [UInt8]) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
    }

    /// Reads more bytes into the buffer; false at EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw errno == EAGAIN || errno == EWOULDBLOCK ? ClientError.timedOut : ClientError.io("recv errno \(errno)") }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func takeLine() throws -> String {
        while true {
            if let i = indexOfCRLF() {
                let line = String(decoding: buffer[0..<i], as: UTF8.self)
                buffer.removeFirst(i + 2)
                return line
            }
            guard try fill() else { throw ClientError.malformed("EOF in a line") }
        }
    }

    private func indexOfCRLF() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for i in 0..<(buffer.count - 1) where buffer[i] == 13 && buffer[i + 1] == 10 { return i }
        return nil
    }

    func readHead() throws -> Head {
        let statusLine = try takeLine()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ClientError.malformed(statusLine) }
        var headers: [String: String] = [:]
        while true {
            let line = try takeLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") ?? false
        remaining = headers["content-length"].flatMap(Int.init)
        return Head(status: status, headers: headers)
    }

    /// The next piece of the body, nil at its end.
    func readBodyPiece() throws -> [UInt8]? {
        if finished { return nil }
        if chunked {
            let sizeLine = try takeLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw ClientError.malformed("chunk size '\(sizeLine)'") }
            if size == 0 { finished = true; _ = try? takeLine(); return nil }
            while buffer.count < size + 2 { guard try fill() else { throw ClientError.malformed("EOF in chunk") } }
            let piece = Array(buffer[0..<size])
            buffer.removeFirst(size + 2)
            return piece
        }
        if let left = remaining {
            if left == 0 { finished = true; return nil }
            if buffer.isEmpty { guard try fill() else { throw ClientError.malformed("EOF before content-length") } }
            let n = min(left, buffer.count)
            let piece = Array(buffer[0..<n]); buffer.removeFirst(n); remaining = left - n
            return piece
        }
        if buffer.isEmpty { guard try fill() else { finished = true; return nil } }
        let piece = buffer; buffer = []
        return piece
    }

    func readBody() throws -> [UInt8] {
        var body: [UInt8] = []
        while let p = try readBodyPiece() { body += p }
        return body
    }
}

/// Runs blocking work on a GCD thread and awaits it.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue.global().async { c.resume(with: Result { try work() }) }
    }
}

struct HTTPResult: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw RawHTTPConnection.ClientError.malformed("not a JSON object: \(text.prefix(200))")
        }
        return o
    }
    /// `error.code`, `error.type`, `error.param` of an OpenAI-shaped error.
    func error() throws -> (message: String, type: String, param: String?, code: String?) {
        guard let e = try json()["error"] as? [String: Any], let m = e["message"] as? String, let t = e["type"] as? String else {
            throw RawHTTPConnection.ClientError.malformed("not an OpenAI error: \(text.prefix(200))")
        }
        return (m, t, e["param"] as? String, e["code"] as? String)
    }
}

/// A response read as server-sent events, one `data:` payload at a time.
final class EventReader: @unchecked Sendable {
    let connection: RawHTTPConnection
    let head: RawHTTPConnection.Head
    private var pending = ""

    init(connection: RawHTTPConnection, head: RawHTTPConnection.Head) { self.connection = connection; self.head = head }

    /// The next event's data, nil at the end of the body.
    func next() async throws -> String? {
        try await blocking { try self.nextBlocking() }
    }

    private func nextBlocking() throws -> String? {
        while true {
            if let range = pending.range(of: "\n\n") {
                let event = String(pending[..<range.lowerBound])
                pending.removeSubrange(..<range.upperBound)
                let data = event.split(separator: "\n").filter { $0.hasPrefix("data:") }
                    .map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                if data.isEmpty { continue }
                return data
            }
            guard let piece = try connection.readBodyPiece() else { return nil }
            pending += String(decoding: piece, as: UTF8.self)
        }
    }

    func all() async throws -> [String] {
        var events: [String] = []
        while let e = try await next() { events.append(e) }
        return events
    }
}
