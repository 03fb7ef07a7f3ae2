import ArgumentParser
import Foundation
import RAG

struct TrainEmbedderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-embedder",
        abstract: "Fine-tune the embedder on your pairs (JSONL of {query, positive, negative?}) or on pairs mined from a knowledge base.",
        discussion: "Then: rag reembed --db FILE --embedder OUT, and compare with rag eval retrieval.")

    @Option(name: .long, help: "Folder to save the trained model in (Hugging Face layout).")
    var out: String

    @Option(name: .long, help: "JSONL of {\"query\", \"positive\", \"negative\"?}. Without it, pairs are mined from --db.")
    var pairs: String?

    @Flag(name: .long, help: "Skip malformed lines of the pairs file (reported) instead of stopping.")
    var skipMalformed = false

    @Option(name: .long, help: "Knowledge base to mine pairs from (self-supervised).")
    var db: String?

    @Option(name: .long, help: "The model to start from (default: the default embedder).")
    var embedder: String?

    @Option(name: .long) var epochs: Int = 1
    @Option(name: .long) var batchSize: Int = 32
    @Option(name: .long) var learningRate: Float = 2e-5
    @Option(name: .long) var warmup: Int = 10
    @Option(name: .long) var seed: UInt64 = 42
    @Option(name: .long, help: "Stop after this many steps.") var maxSteps: Int?
    @Option(name: .long, help: "Train LoRA adapters of this rank instead of all weights.") var loraRank: Int?
    @Option(name: .long, help: "Save a resumable checkpoint every N steps (under OUT/checkpoints).") var checkpointEvery: Int?
    @Option(name: .long, help: "Resume from a checkpoint folder.") var resume: String?

    func run() async throws {
        var o = EmbedderTraining.Options()
        o.pairsFile = pairs.map { URL(fileURLWithPath: $0) }
        o.skipMalformed = skipMalformed
        o.knowledgeBase = try db.map { try StoreLocation($0) }
        o.epochs = epochs; o.batchSize = batchSize; o.learningRate = learningRate; o.warmupSteps = warmup
        o.seed = seed; o.maxSteps = maxSteps; o.loraRank = loraRank; o.checkpointEvery = checkpointEvery
        o.resume = resume.map { URL(fileURLWithPath: $0) }
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        let result = try EmbedderTraining.run(embedderPath: embedder, output: outURL, options: o, log: { Console.err($0) }) { p in
            if p.step == 1 || p.step % 10 == 0 || p.step == p.totalSteps {
                Console.err(String(format: "step %d/%d  loss %.4f  in-batch accuracy %.3f  lr %.2e",
                                   p.step, p.totalSteps, p.loss, p.inBatchAccuracy, p.learningRate))
            }
        }
        Console.out("trained \(result.steps) steps on \(result.trainPairs) pairs in \(String(format: "%.1f", result.seconds)) s; saved to \(out)")
        if let b = result.before, let a = result.after {
            Console.out(String(format: "held-out (%d pairs): loss %.4f → %.4f, in-batch accuracy %.3f → %.3f",
                               result.heldOutPairs, b.loss, a.loss, b.inBatchAccuracy, a.inBatchAccuracy))
        }
    }
}

struct ReembedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reembed", abstract: "Re-embed every chunk of a knowledge base with another embedder (one transaction).")

    @Option(name: .long, help: "The knowledge base: a SQLite file, or postgres://user@host:port/dbname. Env RAG_DB.")
    var db: String = ProcessInfo.processInfo.environment["RAG_DB"] ?? "rag.db"

    @Option(name: .long, help: "The embedder folder to use from now on.")
    var embedder: String

    func run() async throws {
        let e = try ModelFactory.embedder(path: embedder)
        let store = try StoreLocation(db)
        try store.reembed(with: e) { done, total in
            if Console.stderrIsTTY { Console.err("\rre-embedded \(done)/\(total) chunks", terminator: done == total ? "\n" : "") }
        }
        Console.out("\(store) now uses \(e.identity.name) (\(e.identity.dimension) dimensions)")
    }
}
