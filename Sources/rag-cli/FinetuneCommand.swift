import ArgumentParser
import Foundation
import Generator
import RAG

struct FinetuneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Retrain the generator on your data with LoRA (QLoRA over a GGUF model); use the result with --adapter.",
        subcommands: [FinetuneSFTCommand.self, FinetuneDPOCommand.self, FinetuneRMCommand.self, FinetunePPOCommand.self,
                      FinetunePretrainCommand.self, FinetuneEvalClassifyCommand.self])
}

/// The flags every stage shares.
struct FinetuneFlags: ParsableArguments {
    @Option(name: .long, help: "Generator to train: a GGUF file or Hugging Face folder (default: SmolLM2-135M-Instruct Q4_1).")
    var model: String?
    @Option(name: .long, help: "Training data: JSONL or a JSON array (the format is detected and printed).")
    var data: String
    @Option(name: .long, help: "Output folder: the PEFT adapter, checkpoint-N folders.")
    var out: String
    @Option(name: .long) var epochs: Int = 3
    @Option(name: .long, help: "Stop after this many optimizer steps.") var maxSteps: Int?
    @Option(name: .long, help: "Peak learning rate (AdamW, linear warmup then cosine decay).") var lr: Float = 1e-4
    @Option(name: .long, help: "Fraction of the steps spent warming up.") var warmupRatio: Float = 0.03
    @Option(name: .long) var weightDecay: Float = 0
    @Option(name: .long, help: "Sequences per micro-batch.") var batchSize: Int = 1
    @Option(name: .long, help: "Micro-batches per optimizer step.") var gradAccum: Int = 4
    @Option(name: .long, help: "Clip the global gradient norm to this.") var maxGradNorm: Float = 1
    @Option(name: .long, help: "Longer sequences are cut to this many tokens (their end is dropped).") var maxLength: Int = 1024
    @Option(name: .long) var seed: UInt64 = 42
    @Option(name: .long, help: "LoRA rank r.") var loraR: Int = 8
    @Option(name: .long, help: "LoRA alpha (the update is scaled by alpha / r).") var loraAlpha: Float = 16
    @Option(name: .long) var loraDropout: Float = 0
    @Option(name: .long, help: "Projections to adapt: names (q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj) or all-linear.")
    var loraTargets: String = "q_proj,v_proj"
    @Option(name: .long, help: "Layers to adapt, e.g. 15-29 or 0,2,4 (default: all); the backward pass stops at the lowest.")
    var loraLayers: String?
    @Option(name: .long, help: "Start from this PEFT adapter (e.g. the SFT result before DPO) instead of a fresh one.")
    var adapter: String?
    @Option(name: .long, help: "What to train: lora (over a GGUF model's quantized blocks: QLoRA), qlora, prompt (prompt tuning), ia3, bitfit (norm gains), full.")
    var peft: String = "lora"
    @Option(name: .long, help: "Prompt tuning: how many virtual tokens.") var numVirtualTokens: Int = 20
    @Flag(name: .long, help: "Train every weight (same as --peft full; F32/F16/BF16 models: a Hugging Face folder or F32/F16 GGUF); writes a model folder.")
    var full = false

    func validate() throws {
        guard let method = PEFTMethod(rawValue: peft) else {
            throw ValidationError("--peft must be one of \(PEFTMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if full, method != .lora, method != .full { throw ValidationError("--full and --peft \(peft) exclude each other") }
    }

    var method: PEFTMethod { full ? .full : PEFTMethod(rawValue: peft) ?? .lora }
    @Option(name: .long, help: "Fraction of the data held out for evaluation.") var evalSplit: Double = 0
    @Option(name: .long, help: "Evaluate every N steps (default: each epoch).") var evalEvery: Int = 0
    @Option(name: .long, help: "Stop when the evaluation loss has not improved for N evaluations (0 = never).") var earlyStopping: Int = 0
    @Option(name: .long, help: "Save a checkpoint every N steps.") var saveEvery: Int = 0
    @Option(name: .long, help: "Continue from a checkpoint folder (OUT/checkpoint-N).") var resume: String?
    @Option(name: .long, help: "Append metrics as JSON lines to this file.") var log: String?
    @Flag(name: .long, help: "Do not recompute layers in backward (faster, far more memory).") var noRecompute = false
    @Flag(name: .long, help: "Multiply by the frozen base weights in bf16 with Float32 sums (QLoRA's compute dtype): about twice as fast where the CPU has AVX512-BF16, Float32 elsewhere.") var bf16 = false

    var options: FinetuneOptions {
        get throws {
            var o = FinetuneOptions()
            o.epochs = epochs; o.maxSteps = maxSteps; o.learningRate = lr; o.warmupRatio = warmupRatio; o.weightDecay = weightDecay
            o.batchSize = batchSize; o.gradAccum = gradAccum; o.maxGradNorm = maxGradNorm; o.maxLength = maxLength; o.seed = seed
            o.lora = LoRAOptions(rank: loraR, alpha: loraAlpha, dropout: loraDropout, targets: LoRAOptions.parseTargets(loraTargets),
                                 layers: try LoRAOptions.parseLayers(loraLayers ?? ""))
            o.initialAdapter = adapter.map { URL(fileURLWithPath: $0, isDirectory: true) }
            o.evalSplit = evalSplit; o.evalEvery = evalEvery; o.earlyStoppingPatience = earlyStopping; o.saveEvery = saveEvery
            o.resume = resume.map { URL(fileURLWithPath: $0, isDirectory: true) }
            o.logFile = log.map { URL(fileURLWithPath: $0) }
            o.recomputeLayers = !noRecompute
            if bf16 { o.frozenPrecision = .bfloat16 }
            o.peft = method
            o.numVirtualTokens = numVirtualTokens
            return o
        }
    }

    /// Runs a stage with the progress bar, Ctrl-C saving a checkpoint, and the closing summary.
    func run(_ stage: GeneratorFinetuning.Stage, name: String, options: FinetuneOptions) throws {
        let interrupt = Interrupt.install()
        let bar = TrainingProgressBar()
        let outURL = URL(fileURLWithPath: out, isDirectory: true)
        let result = try GeneratorFinetuning.run(stage, modelPath: model ?? ProcessInfo.processInfo.environment["RAG_MODEL"],
                                                 data: URL(fileURLWithPath: data), output: outURL, options: options,
                                                 log: { Console.err($0) }, shouldStop: { interrupt.fired }) { bar.update($0) }
        bar.finish()
        if let checkpoint = result.interruptedCheckpoint {
            Console.out("interrupted at step \(result.steps)/\(result.totalSteps); checkpoint saved to \(checkpoint.path)")
            Console.out("resume with: rag finetune \(name) <same flags> --resume \(checkpoint.path)")
            throw ExitCode(130)
        }
        var line = "trained \(result.steps) steps on \(result.trainExamples) examples in \(TrainingProgressBar.duration(result.seconds))"
        line += String(format: " (%.0f tokens/s)", result.tokensPerSecond)
        if let f = result.firstLoss, let l = result.lastLoss { line += String(format: "; loss %.4f → %.4f", f, l) }
        if let e = result.evalLoss { line += String(format: "; eval loss %.4f on %d held out", e, result.evalExamples) }
        if result.stoppedEarly { line += "; stopped early (no eval improvement)" }
        if let peak = result.peakMemoryBytes { line += "; peak memory \(peak / (1 << 20)) MB" }
        Console.out(line)
        var startsNewModel = false
        if case .pretrain(.some, _) = stage { startsNewModel = true }
        if case .rm = stage {
            Console.out("reward model (\(method == .full ? "model" : "adapter") + reward_head.safetensors) saved to \(out); score with: rag score --reward \(out) --data FILE")
        } else if method == .full || startsNewModel {
            Console.out("model saved to \(out) (config.json, model.safetensors, tokenizer); use it with: rag ask --model \(out) …")
        } else {
            Console.out("adapter saved to \(out); use it with: rag ask --adapter \(out) …")
        }
    }
}

struct FinetuneSFTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning on conversations (alpaca, messages, sharegpt or prompt/completion records).",
        discussion: "Loss on the assistant's tokens only (--train-on-prompt to include the prompt).")

    @OptionGroup var flags: FinetuneFlags
    @Flag(name: .long, help: "Learn the prompt's tokens too, not only the assistant's.") var trainOnPrompt = false

    func run() async throws {
        var o = try flags.options
        o.trainOnPrompt = trainOnPrompt
        try flags.run(.sft, name: "sft", options: o)
    }
}

struct FinetuneDPOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct preference optimisation on {prompt, chosen, rejected}, sharegpt-style or ranked records.",
        discussion: "The reference is the starting model (the base, or --adapter) with the trained update off; no second copy is loaded.")

    @OptionGroup var flags: FinetuneFlags
    @Option(name: .long, help: "DPO beta (strength of the KL constraint).") var beta: Double = 0.1
    @Option(name: .long, help: "Loss: sigmoid, ipo or hinge.") var loss: String = "sigmoid"
    @Option(name: .long, help: "Label smoothing (conservative DPO), in [0, 0.5).") var labelSmoothing: Double = 0
    @Flag(name: .long, help: "No reference model (its log-probabilities are taken as 0).") var referenceFree = false

    func validate() throws {
        guard DPOLoss(rawValue: loss) != nil else {
            throw ValidationError("--loss must be one of \(DPOLoss.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var d = DPOOptions()
        d.beta = beta; d.loss = DPOLoss(rawValue: loss) ?? .sigmoid; d.labelSmoothing = labelSmoothing; d.referenceFree = referenceFree
        try flags.run(.dpo(d), name: "dpo", options: flags.options)
    }
}

struct FinetuneRMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Train a reward model: a scalar head on the last token, Bradley–Terry loss on preference pairs (DPO's formats).",
        discussion: "Writes the LoRA adapter and reward_head.safetensors to --out; score with: rag score --reward OUT --data FILE.")

    @OptionGroup var flags: FinetuneFlags

    func run() async throws {
        try flags.run(.rm, name: "rm", options: flags.options)
    }
}

struct FinetunePPOCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "RLHF with PPO: the policy samples answers to your prompts, a reward model (rag finetune rm) scores them.",
        discussion: """
            --data holds prompts: JSONL {"prompt": text or messages} or {"messages": [...]}. Each step samples one response \
            to each of batch-size × grad-accum × num-mini-batches prompts, then runs --ppo-epochs passes of clipped updates. \
            The reference is the starting model (the base, or --adapter); the critic is a value head on the policy, kept in \
            checkpoints. Logs TRL's names: objective/rlhf_reward, objective/kl, policy/clipfrac_avg, loss/policy_avg, \
            loss/value_avg, val/ratio, response_length.
            """)

    @OptionGroup var flags: FinetuneFlags
    @Option(name: .long, help: "The reward model: the output folder of rag finetune rm (same base model).") var reward: String
    @Option(name: .long, help: "β of the per-token KL penalty against the reference.") var klCoef: Double = 0.05
    @Option(name: .long, help: "Adapt β towards this KL per response (nats); without it β stays fixed.") var targetKL: Double?
    @Option(name: .long, help: "Responses over which the adaptive β applies a full correction.") var klHorizon: Double = 10_000
    @Option(name: .long, help: "Discount γ.") var gamma: Double = 1
    @Option(name: .long, help: "GAE's λ.") var lam: Double = 0.95
    @Option(name: .long, help: "ε of the clipped policy ratio.") var cliprange: Double = 0.2
    @Option(name: .long, help: "ε of the clipped value update.") var cliprangeValue: Double = 0.2
    @Option(name: .long, help: "Weight of the value loss.") var vfCoef: Double = 0.1
    @Option(name: .long, help: "Passes over each batch of responses.") var ppoEpochs: Int = 4
    @Option(name: .long, help: "Optimizer steps per pass.") var numMiniBatches: Int = 1
    @Option(name: .long, help: "Tokens per sampled response at most.") var responseLength: Int = 53
    @Option(name: .long, help: "Sampling temperature of the responses.") var temperature: Float = 0.7
    @Option(name: .long, help: "Added to the score of a response that does not end within --response-length (e.g. -1).")
    var missingEOSPenalty: Double?

    func run() async throws {
        var p = PPOOptions()
        p.klCoef = klCoef; p.targetKL = targetKL; p.klHorizon = klHorizon; p.gamma = gamma; p.lambda = lam
        p.clipRange = cliprange; p.clipRangeValue = cliprangeValue; p.valueCoef = vfCoef; p.ppoEpochs = ppoEpochs
        p.miniBatches = numMiniBatches; p.responseLength = responseLength; p.temperature = temperature
        p.missingEOSPenalty = missingEOSPenalty
        try flags.run(.ppo(p, reward: URL(fileURLWithPath: reward, isDirectory: true)), name: "ppo", options: flags.options)
    }
}

struct FinetunePretrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Causal language modelling on your texts: an existing model (LoRA, or --full), or a new one (--config --tokenizer).",
        discussion: """
            --data: a folder of .txt/.md files, a JSONL (or JSON array) of {"text"} records, or one text file. The texts are \
            tokenised, joined with the end-of-text token and packed into blocks of --max-length; every token is learned. \
            --config FILE (Hugging Face LlamaConfig keys: hidden_size, intermediate_size, num_hidden_layers, \
            num_attention_heads, num_key_value_heads, max_position_embeddings, …) starts from random weights with the \
            vocabulary of --tokenizer (rag tokenizer train writes one) and trains every weight; --out is then a model folder.
            """)

    @OptionGroup var flags: FinetuneFlags
    @Option(name: .long, help: "A Llama config (JSON) for a new model trained from scratch.") var config: String?
    @Option(name: .long, help: "The new model's tokenizer.json (with --config).") var tokenizer: String?

    func validate() throws {
        if tokenizer != nil, config == nil { throw ValidationError("--tokenizer goes with --config (a new model); an existing model keeps its own") }
    }

    func run() async throws {
        try flags.run(.pretrain(config: config.map { URL(fileURLWithPath: $0) }, tokenizer: tokenizer.map { URL(fileURLWithPath: $0) }),
                      name: "pretrain", options: flags.options)
    }
}

struct ScoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Print the reward of prompt/response pairs under a reward model (JSONL in, JSONL out).",
        discussion: "Each record {\"prompt\", \"response\"} (strings or message lists) is printed with \"reward\" added.")

    @Option(name: .long, help: "The reward model: the output folder of rag finetune rm.") var reward: String
    @Option(name: .long, help: "JSONL (or a JSON array) of {\"prompt\", \"response\"} records.") var data: String
    @Option(name: .long, help: "The base model the reward model was trained on (default: SmolLM2-135M-Instruct Q4_1).") var model: String?
    @Option(name: .long, help: "Conversations longer than this keep their first tokens.") var maxLength: Int = 2048

    func run() async throws {
        let lines = try GeneratorFinetuning.score(modelPath: model ?? ProcessInfo.processInfo.environment["RAG_MODEL"],
                                                  reward: URL(fileURLWithPath: reward, isDirectory: true),
                                                  data: URL(fileURLWithPath: data), maxLength: maxLength)
        for line in lines { Console.out(line) }
    }
}

struct FinetuneEvalClassifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-classify",
        abstract: "Accuracy and macro-F1 on the held-out split of text,label data (CSV or JSONL), choosing among the known labels.",
        discussion: "Train first with: rag finetune sft --data FILE --eval-split F --seed S; give the same --eval-split and --seed here.")

    @Option(name: .long, help: "Generator (default: SmolLM2-135M-Instruct Q4_1).") var model: String?
    @Option(name: .long, help: "The trained PEFT adapter (omit to evaluate the base model).") var adapter: String?
    @Option(name: .long, help: "text,label data: CSV (header text,label optional) or JSONL {\"text\", \"label\"}.") var data: String
    @Option(name: .long, help: "The held-out fraction used in training (0: every example).") var evalSplit: Double = 0
    @Option(name: .long) var seed: UInt64 = 42

    func run() async throws {
        let r = try GeneratorFinetuning.evaluateClassification(
            modelPath: model ?? ProcessInfo.processInfo.environment["RAG_MODEL"], adapter: adapter.map { URL(fileURLWithPath: $0, isDirectory: true) },
            data: URL(fileURLWithPath: data), evalSplit: evalSplit, seed: seed)
        Console.out(String(format: "%d examples: accuracy %.4f, macro-F1 %.4f", r.examples, r.accuracy, r.macroF1))
        for (label, f1) in zip(r.labels, r.f1) { Console.out(String(format: "  %@  F1 %.4f", label, f1)) }
    }
}
