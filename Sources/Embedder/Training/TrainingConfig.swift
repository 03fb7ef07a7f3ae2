import Foundation

/// Options of contrastive fine-tuning.
public struct TrainingConfig: Sendable {
    public var epochs: Int = 1
    public var batchSize: Int = 32
    public var learningRate: Float = 2e-5
    /// Steps of linear warmup from 0 to `learningRate` (constant afterwards).
    public var warmupSteps: Int = 0
    public var weightDecay: Float = 0.01
    /// Multiplier of the cosine similarities before the softmax (sentence-transformers: 20).
    public var scale: Float = 20
    /// Clip the global gradient norm to this (nil: no clipping).
    public var maxGradNorm: Float? = 1
    public var seed: UInt64 = 0
    /// Truncate inputs to this many tokens (default: the encoder's `maxTokens`).
    public var maxTokens: Int?
    /// Stop after this many steps in total (default: all epochs).
    public var maxSteps: Int?
    /// Save a checkpoint every N steps into `checkpointDirectory/step-N` (model + optimizer + step).
    public var checkpointEvery: Int?
    public var checkpointDirectory: URL?
    /// Train LoRA adapters on every Linear instead of all weights.
    public var lora: LoRAOptions?

    public struct LoRAOptions: Sendable, Equatable {
        public var rank: Int
        public var alpha: Float
        public init(rank: Int = 8, alpha: Float = 16) { self.rank = rank; self.alpha = alpha }
    }

    public init(epochs: Int = 1, batchSize: Int = 32, learningRate: Float = 2e-5, warmupSteps: Int = 0, seed: UInt64 = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.learningRate = learningRate
        self.warmupSteps = warmupSteps; self.seed = seed
    }

    func validate() throws {
        guard epochs >= 1 else { throw EmbedderError.invalidArgument("epochs must be >= 1, got \(epochs)") }
        guard batchSize >= 2 else { throw EmbedderError.invalidArgument("batch size must be >= 2 for in-batch negatives, got \(batchSize)") }
        guard learningRate > 0 else { throw EmbedderError.invalidArgument("learning rate must be positive, got \(learningRate)") }
        guard warmupSteps >= 0 else { throw EmbedderError.invalidArgument("warmup steps must be >= 0, got \(warmupSteps)") }
        if let n = checkpointEvery {
            guard n >= 1 else { throw EmbedderError.invalidArgument("checkpoint interval must be >= 1, got \(n)") }
            guard checkpointDirectory != nil else { throw EmbedderError.invalidArgument("checkpointEvery needs a checkpointDirectory") }
        }
        if let lora { guard lora.rank >= 1 else { throw EmbedderError.invalidArgument("LoRA rank must be >= 1") } }
    }
}

/// Reported after every optimisation step.
public struct TrainingProgress: Sendable {
    public var step: Int           // 1-based, counted over the whole run
    public var totalSteps: Int
    public var epoch: Int          // 0-based
    public var loss: Float
    public var inBatchAccuracy: Float
    public var learningRate: Float
}

/// Held-out figures: mean loss and the fraction of queries whose positive scores highest in its batch.
public struct HeldOutScores: Sendable, Equatable {
    public var loss: Float
    public var inBatchAccuracy: Float
    public var pairs: Int
}

public struct TrainingReport: Sendable {
    public var steps: Int
    public var losses: [Float]              // one per step of this run
    public var before: HeldOutScores?       // on evalPairs, before this run
    public var after: HeldOutScores?        // on evalPairs, at the end
    public var checkpoints: [URL]
    public var seconds: Double
    public var trainableParameters: Int
}
