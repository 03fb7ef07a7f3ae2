// The settings of a fine-tuning run (the flags every stage shares, as LLaMA-Factory / TRL name them).

import Foundation
import Tensor

public struct FinetuneOptions: Sendable {
    public var epochs: Int = 3
    /// Stop after this many optimizer steps (overrides epochs when smaller).
    public var maxSteps: Int?
    public var learningRate: Float = 1e-4
    public var weightDecay: Float = 0
    /// Linear warmup over this fraction of the steps, then cosine decay to 0.
    public var warmupRatio: Float = 0.03
    public var batchSize: Int = 1
    public var gradAccum: Int = 4
    public var maxGradNorm: Float = 1
    /// Longer sequences are cut at the end to this many tokens (and counted).
    public var maxLength: Int = 1024
    public var seed: UInt64 = 42
    public var lora = LoRAOptions()
    /// A PEFT adapter to start from instead of a fresh one (its settings replace `lora`'s but dropout).
    public var initialAdapter: URL?
    /// Fraction of the data held out for evaluation (0: none).
    public var evalSplit: Double = 0
    /// Evaluate every N steps (0: at the end of each epoch only).
    public var evalEvery: Int = 0
    /// Stop when the evaluation loss has not improved for this many evaluations (0: never).
    public var earlyStoppingPatience: Int = 0
    /// Save a checkpoint every N steps (0: only at the end and on interruption).
    public var saveEvery: Int = 0
    /// A checkpoint folder (OUT/checkpoint-N) to continue from.
    public var resume: URL?
    /// Metrics appended as JSON lines.
    public var logFile: URL?
    /// Print/log every N steps.
    public var logEvery: Int = 1
    /// SFT: learn the prompt's tokens too.
    public var trainOnPrompt = false
    /// Keep only layer inputs and recompute the layers in backward.
    public var recomputeLayers = true
    /// How the frozen weights' products are computed (`--bf16`: bf16 operands, Float32 sums).
    public var frozenPrecision: FrozenPrecision = .float32
    /// Whether this CPU computes `frozenPrecision = .bfloat16` as such (AVX512-BF16); else Float32.
    public static var bf16IsAvailable: Bool { FrozenPrecision.bfloat16IsAvailable }
    /// What is trained: LoRA (QLoRA over a quantized model), prompt tuning, (IA)³, BitFit, or every weight.
    public var peft: PEFTMethod = .lora
    /// Prompt tuning's number of virtual tokens.
    public var numVirtualTokens = 20
    /// Train every weight (FullParameters.swift) instead of an adapter; the result is a model folder.
    public var full: Bool {
        get { peft == .full }
        set { peft = newValue ? .full : .lora }
    }

    public init() {}

    func validate() throws {
        func bad(_ m: String) -> TrainingError { .options(m) }
        guard epochs >= 1 else { throw bad("--epochs must be at least 1") }
        if let m = maxSteps, m < 1 { throw bad("--max-steps must be at least 1") }
        guard learningRate > 0, learningRate.isFinite else { throw bad("--lr must be positive") }
        guard batchSize >= 1 else { throw bad("--batch-size must be at least 1") }
        guard gradAccum >= 1 else { throw bad("--grad-accum must be at least 1") }
        guard maxLength >= 2 else { throw bad("--max-length must be at least 2") }
        guard evalSplit >= 0, evalSplit < 1 else { throw bad("--eval-split must be in [0, 1)") }
        guard warmupRatio >= 0, warmupRatio <= 1 else { throw bad("--warmup-ratio must be in [0, 1]") }
        guard maxGradNorm > 0 else { throw bad("--max-grad-norm must be positive") }
        if full, initialAdapter != nil {
            throw bad("--full trains a model, not an adapter: merge the adapter first (rag adapter merge) and train the merged folder")
        }
        guard evalEvery >= 0, saveEvery >= 0, logEvery >= 1, earlyStoppingPatience >= 0 else {
            throw bad("--eval-every, --save-every and --early-stopping must be ≥ 0, --log-every ≥ 1")
        }
    }
}

/// What a training run reports after each optimizer step (and each evaluation).
public struct FinetuneProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var epoch: Double
    public var loss: Double
    public var learningRate: Float
    public var gradNorm: Float
    /// Trained (non-padding) tokens per second over the run so far.
    public var tokensPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double?
    /// Stage-specific metrics (DPO's rewards/…, eval_loss, …), TRL names.
    public var metrics: [String: Double]
    public var isEvaluation: Bool
}

/// What `finetune` returns.
public struct FinetuneOutcome: Sendable {
    public var steps: Int
    public var totalSteps: Int
    public var trainExamples: Int
    public var evalExamples: Int
    public var firstLoss: Double?
    public var lastLoss: Double?
    public var evalLoss: Double?
    public var seconds: Double
    public var tokensPerSecond: Double
    /// Set when the run stopped early on request: the checkpoint that `--resume` continues.
    public var interruptedCheckpoint: URL?
    public var stoppedEarly: Bool
    /// Peak resident memory of the process, bytes (Linux: VmHWM), when known.
    public var peakMemoryBytes: Int?
}
