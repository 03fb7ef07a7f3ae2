import Foundation

/// A one-line progress display on a terminal (files, chunks, throughput, ETA), redrawn in place;
/// when stderr is not a terminal, a plain line every few seconds instead.
final class ProgressBar {
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let isTTY = Console.stderrIsTTY
    private let label: String

    init(label: String) { self.label = label }

    func update(done: Int, total: Int, chunks: Int, bytesDone: Int64, bytesTotal: Int64, current: String?) {
        let now = Date()
        let interval = isTTY ? 0.1 : 5.0
        guard now.timeIntervalSince(lastDraw) >= interval || done == total else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 1e-3)
        let fraction = bytesTotal > 0 ? Double(bytesDone) / Double(bytesTotal) : (total > 0 ? Double(done) / Double(total) : 1)
        let eta = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : nil
        let rate = Double(chunks) / elapsed
        var line = "\(label) \(done)/\(total) files, \(chunks) chunks, \(String(format: "%.1f", rate)) chunks/s"
        if let eta, done < total { line += ", ETA \(Self.duration(eta))" }
        if isTTY {
            let width = 24
            let filled = Int((fraction * Double(width)).rounded(.down))
            let bar = String(repeating: "█", count: min(filled, width)) + String(repeating: "·", count: max(0, width - filled))
            var text = "\r\u{1B}[2K[\(bar)] \(line)"
            if let current, done < total { text += "  \(current.suffix(40))" }
            Console.err(text, terminator: "")
        } else {
            Console.err(line)
        }
    }

    func finish() {
        if isTTY { Console.err("\r\u{1B}[2K", terminator: "") }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
