import ArgumentParser
import Foundation
import RAG

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a knowledge base to another store (SQLite ↔ PostgreSQL), keeping ids, vectors and the embedder.",
        discussion: "Example: rag migrate --from corpus.db --to postgres://rag@db.example:5432/rag (and back). The destination must hold no documents.")

    @Option(name: .long, help: "The base to copy: a SQLite file or postgres://user@host:port/dbname.")
    var from: String

    @Option(name: .long, help: "Where to copy it (created when absent; must hold no documents).")
    var to: String

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        let source = try StoreLocation(from), destination = try StoreLocation(to)
        let report = try StoreMigration.copy(from: source, to: destination) { r in
            if Console.stderrIsTTY { Console.err("\rcopied \(r.documents) documents, \(r.chunks) chunks", terminator: "") }
        }
        if Console.stderrIsTTY { Console.err("") }
        if json { try Console.json(report); return }
        Console.out("copied \(source) → \(destination): \(report.documents) documents, \(report.chunks) chunks, "
                    + "\(report.files) uploaded files in "
                    + String(format: "%.1f", report.seconds) + " s")
    }
}
