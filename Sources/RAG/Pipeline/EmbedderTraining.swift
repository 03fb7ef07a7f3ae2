import Embedder
import Foundation
import SeededRandom

/// `rag train-embedder`: contrastive fine-tuning of the embedder on the user's pairs, or on pairs
/// mined from an ingested knowledge base when there are none; the result is saved in the Hugging
/// Face layout, ready for `rag reembed`.
public enum EmbedderTraining {
    public struct Options: Sendable {
        public var pairsFile: URL?
        public var skipMalformed = false
        public var knowledgeBase: StoreLocation?
        public var epochs = 1
        public var batchSize = 32
        public var learningRate: Float = 2e-5
        public var warmupSteps = 10
        public var seed: UInt64 = 42
        public var maxSteps: Int?
        public var loraRank: Int?
        public var checkpointEvery: Int?
        public var resume: URL?
        public var heldOutFraction = 0.1
        public init() {}
    }

    public struct Outcome: Sendable {
        public var trainPairs: Int
        public var heldOutPairs: Int
        public var steps: Int
        public var firstLoss: Float?
        public var lastLoss: Float?
        public var before: HeldOutScores?
        public var after: HeldOutScores?
        public var seconds: Double
    }

    public static func run(embedderPath: String?, output: URL, options: Options, models: ModelLocator = ModelLocator(),
                           log: (String) -> Void, progress: (TrainingProgress) -> Void) throws -> Outcome {
        let encoder = try SentenceEncoder.load(directory: models.embedder(embedderPath))
        let (train, heldOut) = try pairs(options: options, encoder: encoder, log: log)
        guard !train.isEmpty else { throw RAGError.invalidInput("no training pairs: the pairs file or knowledge base gave none") }
        log("training on \(train.count) pairs, \(heldOut.count) held out for evaluation")

        var config = TrainingConfig(epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
                                    warmupSteps: options.warmupSteps, seed: options.seed)
        config.maxSteps = options.maxSteps
        config.checkpointEvery = options.checkpointEvery
        config.checkpointDirectory = output.appendingPathComponent("checkpoints", isDirectory: true)
        if let r = options.loraRank { config.lora = .init(rank: r, alpha: Float(2 * r)) }
        let trainer = try ContrastiveTrainer(encoder: encoder, config: config)
        let report = try trainer.train(pairs: train, evalPairs: heldOut, resumeFrom: options.resume, progress: progress)
        try encoder.save(to: output)
        return Outcome(trainPairs: train.count, heldOutPairs: heldOut.count, steps: report.steps, firstLoss: report.losses.first,
                       lastLoss: report.losses.last, before: report.before, after: report.after, seconds: report.seconds)
    }

    /// Pairs from the file (a deterministic held-out slice), or mined from the base's chunks.
    static func pairs(options: Options, encoder: SentenceEncoder, log: (String) -> Void) throws -> (train: [TrainingPair], heldOut: [TrainingPair]) {
        if let file = options.pairsFile {
            let all = try TrainingPairs.load(from: file, onMalformed: options.skipMalformed ? .skip : .stop, warn: log)
            var rng = SplitMix64(seed: options.seed)
            let shuffled = all.shuffled(using: &rng)
            let n = all.count >= 20 ? Int(Double(all.count) * options.heldOutFraction) : 0
            return (Array(shuffled.dropFirst(n)), Array(shuffled.prefix(n)))
        }
        guard let db = options.knowledgeBase else {
            throw RAGError.invalidInput("give --pairs FILE, or --db FILE to mine pairs from an ingested knowledge base")
        }
        let base = try db.open(embedder: EmbedderIdentity(name: encoder.identity, dimension: encoder.dimension))
        let chunks = try base.allChunks().map {
            Embedder.ChunkRecord(text: $0.text, sectionTitle: $0.section, page: $0.page, documentPath: $0.path)
        }
        log("mining pairs from \(chunks.count) chunks of \(db)")
        return PairMiner(seed: options.seed, heldOutFraction: options.heldOutFraction).pairs(from: chunks)
    }
}
