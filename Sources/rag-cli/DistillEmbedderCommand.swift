import ArgumentParser
import Foundation
import RAG

struct DistillEmbedderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill-embedder",
        abstract: "Make a faster embedder: the default one cut to fewer layers, trained to reproduce its embeddings of a knowledge base's chunks.",
        discussion: "Then: rag reembed --db FILE --embedder OUT, and compare with rag eval retrieval.")

    @Option(name: .long, help: "Knowledge base whose chunks the student learns from.")
    var db: String = ProcessInfo.processInfo.environment["RAG_DB"] ?? "rag.db"

    @Option(name: .long, help: "Folder to save the student in (Hugging Face layout).")
    var out: String

    @Option(name: .long, help: "The teacher (default: the default embedder).")
    var embedder: String?

    @Option(name: .long, help: "Layers of the student (the teacher's, evenly spaced).") var layers: Int = 3
    @Option(name: .long) var epochs: Int = 1
    @Option(name: .long) var batchSize: Int = 32
    @Option(name: .long) var learningRate: Float = 1e-4
    @Option(name: .long) var warmup: Int = 10
    @Option(name: .long) var seed: UInt64 = 42
    @Option(name: .long, help: "Stop after this many steps.") var maxSteps: Int?

    func run() async throws {
        let store = try StoreLocation(db)
        try store.requireExisting()
        var o = EmbedderDistillation.Options(knowledgeBase: store)
        o.layers = layers; o.epochs = epochs; o.batchSize = batchSize; o.learningRate = learningRate
        o.warmupSteps = warmup; o.seed = seed; o.maxSteps = maxSteps
        let result = try EmbedderDistillation.run(embedderPath: embedder, output: URL(fileURLWithPath: out, isDirectory: true),
                                                  options: o, log: { Console.err($0) }) { p in
            if p.step == 1 || p.step % 10 == 0 || p.step == p.totalSteps {
                Console.err(String(format: "step %d/%d  loss %.4f  lr %.2e", p.step, p.totalSteps, p.loss, p.learningRate))
            }
        }
        Console.out("distilled \(result.steps) steps on \(result.trainTexts) chunks in \(String(format: "%.1f", result.seconds)) s; saved to \(out)")
        Console.out(String(format: "held-out (%d chunks): mean cosine to the teacher %.4f → %.4f",
                           result.heldOutTexts, result.cosineBefore, result.cosineAfter))
    }
}
