import Embedder
import Foundation
import SeededRandom

/// `rag distill-embedder`: a faster embedder for users who want speed. The student is the teacher
/// cut to fewer layers (evenly spaced, same width, tokenizer and pooling), then trained to reproduce
/// the teacher's embeddings of the knowledge base's own chunks; a held-out slice of the chunks
/// measures how close it gets. Saved in the Hugging Face layout, ready for `rag reembed`.
public enum EmbedderDistillation {
    public struct Options: Sendable {
        public var knowledgeBase: StoreLocation
        public var layers = 3
        public var epochs = 1
        public var batchSize = 32
        public var learningRate: Float = 1e-4
        public var warmupSteps = 10
        public var seed: UInt64 = 42
        public var maxSteps: Int?
        public var heldOutFraction = 0.1
        public init(knowledgeBase: StoreLocation) { self.knowledgeBase = knowledgeBase }
    }

    public struct Outcome: Sendable {
        public var teacherLayers: [Int]
        public var trainTexts: Int
        public var heldOutTexts: Int
        public var steps: Int
        public var firstLoss: Float?
        public var lastLoss: Float?
        /// Mean cosine between student and teacher on the held-out chunks.
        public var cosineBefore: Float
        public var cosineAfter: Float
        public var seconds: Double
    }

    /// `count` of `total` layers, evenly spaced from the first: 3 of 6 -> 0, 2, 4.
    static func evenlySpaced(_ count: Int, of total: Int) -> [Int] {
        (0..<count).map { $0 * total / count }
    }

    public static func run(embedderPath: String?, output: URL, options: Options, models: ModelLocator = ModelLocator(),
                           log: (String) -> Void, progress: (TrainingProgress) -> Void) throws -> Outcome {
        let teacher = try SentenceEncoder.load(directory: models.embedder(embedderPath))
        let total = teacher.model.config.layers
        guard options.layers >= 1, options.layers < total else {
            throw RAGError.invalidInput("--layers \(options.layers): the student needs 1 to \(total - 1) layers (the teacher has \(total))")
        }
        let kept = evenlySpaced(options.layers, of: total)
        let student = try teacher.truncated(keepingLayers: kept)

        let base = try options.knowledgeBase.open(embedder: EmbedderIdentity(name: teacher.identity, dimension: teacher.dimension))
        var texts = try base.allChunks().map(\.text)
        guard !texts.isEmpty else { throw RAGError.invalidInput("\(options.knowledgeBase): no chunks to distil on (ingest a folder first)") }
        var rng = SplitMix64(seed: options.seed)
        texts.shuffle(using: &rng)
        let heldOutCount = texts.count >= 20 ? max(1, Int(Double(texts.count) * options.heldOutFraction)) : 0
        let heldOut = Array(texts.prefix(heldOutCount)), train = Array(texts.dropFirst(heldOutCount))
        log("distilling \(total) layers into \(kept.count) (teacher layers \(kept.map(String.init).joined(separator: ", "))) on \(train.count) chunks, \(heldOut.count) held out")

        var config = DistillationConfig(epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
                                        loss: .cosine, seed: options.seed)
        config.warmupSteps = options.warmupSteps
        config.maxSteps = options.maxSteps
        let report = try Distiller(teacher: teacher, student: student, config: config)
            .train(texts: train, heldOut: heldOut, progress: progress)
        try student.save(to: output)
        return Outcome(teacherLayers: kept, trainTexts: train.count, heldOutTexts: heldOut.count, steps: report.steps,
                       firstLoss: report.losses.first, lastLoss: report.losses.last,
                       cosineBefore: report.heldOutCosineBefore, cosineAfter: report.heldOutCosineAfter, seconds: report.seconds)
    }
}
