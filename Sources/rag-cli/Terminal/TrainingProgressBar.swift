import Foundation
import Generator
import RAG

/// Training progress on one line: a bar, step/total, loss, learning rate, tokens/s and ETA (redrawn
/// in place on a terminal; a plain line every few seconds otherwise). Evaluations get their own line.
final class TrainingProgressBar {
    private var lastDraw = Date.distantPast
    private let isTTY = Console.stderrIsTTY

    func update(_ p: FinetuneProgress) {
        if p.isEvaluation {
            let metrics = p.metrics.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }
            clear()
            Console.err("step \(p.step): " + metrics.joined(separator: ", "))
            return
        }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= (isTTY ? 0.2 : 5) || p.step == p.totalSteps || p.step == 1 else { return }
        lastDraw = now
        var line = String(format: "step %d/%d  epoch %.2f  loss %.4f  lr %.2e  %.0f tok/s", p.step, p.totalSteps, p.epoch,
                          p.loss, p.learningRate, p.tokensPerSecond)
        for key in ["rewards/accuracies", "rewards/margins"] {
            if let v = p.metrics[key] { line += String(format: "  %@ %.3f", key, v) }
        }
        if let eta = p.etaSeconds, p.step < p.totalSteps { line += "  ETA \(Self.duration(eta))" }
        if isTTY {
            let width = 20
            let filled = p.totalSteps > 0 ? min(width, p.step * width / p.totalSteps) : width
            Console.err("\r\u{1B}[2K[" + String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled) + "] " + line,
                        terminator: "")
        } else {
            Console.err(line)
        }
    }

    private func clear() { if isTTY { Console.err("\r\u{1B}[2K", terminator: "") } }

    func finish() {
        if isTTY { Console.err("") }
    }

    static func duration(_ seconds: Double) -> String { ProgressBar.duration(seconds) }
}
