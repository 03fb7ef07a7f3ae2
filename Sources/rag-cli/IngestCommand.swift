import ArgumentParser
import Foundation
import RAG

struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Add a folder to the knowledge base, or bring it up to date (new, changed and deleted files).")

    @Argument(help: "The folder to ingest.")
    var folder: String

    @OptionGroup var base: BaseOptions

    @Option(name: .long, help: "Only files matching this glob (relative path; repeatable).")
    var include: [String] = []

    @Option(name: .long, help: "Skip files matching this glob (repeatable).")
    var exclude: [String] = []

    @Flag(name: .long, help: "Also read hidden files and folders.")
    var hidden = false

    @Option(name: .long, help: "Target chunk size in tokens.")
    var chunkTokens: Int = 256

    @Option(name: .long, help: "Overlap between chunks in tokens.")
    var overlap: Int = 32

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard chunkTokens >= 16 else { throw ValidationError("--chunk-tokens must be at least 16") }
        guard overlap >= 0, overlap < chunkTokens else { throw ValidationError("--overlap must be in [0, chunk-tokens)") }
    }

    func run() async throws {
        var c = try base.configuration()
        c.scan = FileSelection(includeHidden: hidden, include: include, exclude: exclude)
        c.chunkTokens = chunkTokens
        c.chunkOverlap = overlap
        let pipeline = try RAGPipeline.open(c)
        let bar = ProgressBar(label: "ingest")
        let report = try pipeline.ingest(folder: URL(fileURLWithPath: folder, isDirectory: true)) { p in
            bar.update(done: p.filesDone, total: p.filesTotal, chunks: p.chunksAdded, bytesDone: p.bytesDone,
                       bytesTotal: p.bytesTotal, current: p.currentFile)
        }
        bar.finish()
        if json { try Console.json(report); return }
        let skipped = report.skipped.values.reduce(0, +)
        Console.out("added \(report.added), changed \(report.changed), removed \(report.removed), unchanged \(report.unchanged), "
                    + "skipped \(skipped), failed \(report.failed.count); \(report.chunks) chunks in \(String(format: "%.1f", report.seconds)) s")
        for (reason, n) in report.skipped.sorted(by: { $0.key < $1.key }) { Console.out("  skipped \(n): \(reason)") }
        for s in report.skippedFiles { Console.out("  skipped: \(s.path): \(s.reason)") }
        for f in report.failed { Console.out("  failed: \(f.path): \(f.reason)") }
    }
}
