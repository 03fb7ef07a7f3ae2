// bench-train: tokens/s of one LoRA training step on SmolLM2-135M Q4_1 (QLoRA: the projections stay
// in their GGUF blocks), as `rag finetune` runs it: SFT (r = 8 on q_proj and v_proj, a batch of
// B × T tokens, loss on every position), DPO (B pairs of T-token sequences, the reference forward
// included), a reward-model step (B pairs, the value head on the last token, Bradley–Terry loss) and
// a PPO step (B prompts: sampling up to --response tokens each with the policy, the policy's,
// reference's and critic's forward passes, one clipped update), with the peak resident memory of the
// process; beside two peers on CPU running the same step of the same model in the same run, each
// with its ratio: torch + peft (bench/train/torch_peft_peer.py: the computation TRL's trainers run
// per step, written out) and TRL's own trainer classes (bench/train/trl_peer.py: SFTTrainer,
// DPOTrainer, RewardTrainer, PPOTrainer, trl 1.12.0), with gradient checkpointing as ours recomputes.
//
//   swift run -c release bench-train [sft|dpo|rm|ppo] [--batch 4] [--length 256] [--response 32] [--steps 3] [--model PATH] [--peer torch+peft|TRL|both] [--no-peer]
//   RAG_THREADS=1 … for one thread (the peer gets the same count); bench/train/run.sh runs both
//   stages at 1 and 2 threads.

import ArgumentParser
import Foundation
import Generator
import Tensor
import Tokenizers

struct Arguments: ParsableArguments {
    @Argument(help: "sft, dpo, rm or ppo.") var stage = "sft"
    @Option(help: "Sequences per step (DPO: pairs, so twice as many sequences).") var batch = 4
    @Option(help: "Tokens per sequence.") var length = 256
    @Option(help: "Measured steps (after one warm-up step).") var steps = 3
    @Option(help: "PPO: tokens sampled per response at most.") var response = 32
    @Option(help: "GGUF model (default: SmolLM2-135M-Instruct.Q4_1.gguf in RAG_MODELS or ~/.cache/rag/models).") var model: String?
    @Flag(name: .customLong("no-peer"), help: "Run no peer.") var noPeer = false
    @Option(name: .customLong("peer"), help: "Which peers run: torch+peft, TRL or both (default).") var peerChoice = "both"
    @Flag(name: .customLong("bf16"), help: "Ours multiplies by the frozen weights in bf16 with Float32 sums (rag finetune --bf16); torch runs under bf16 autocast (TRL's --bf16).") var bf16 = false
    @Flag(name: .customLong("no-recompute"), help: "Keep every layer's activations for backward (as torch does) instead of recomputing them.") var noRecompute = false

    var peers: [Peer] { noPeer ? [] : peerChoice == "both" ? Peer.allCases : Peer(rawValue: peerChoice).map { [$0] } ?? [] }

    func validate() throws {
        guard ["sft", "dpo", "rm", "ppo"].contains(stage) else { throw ValidationError("stage must be sft, dpo, rm or ppo (got \(stage))") }
        guard peerChoice == "both" || Peer(rawValue: peerChoice) != nil else { throw ValidationError("--peer must be torch+peft, TRL or both") }
        guard batch > 0, length > 1, steps > 0 else { throw ValidationError("--batch, --length and --steps must be positive (--length ≥ 2)") }
    }
}

struct StepFigures {
    var seconds: Double      // wall time per step
    var cpuSeconds: Double   // CPU time per step, all threads
    var peakRSSMB: Int
}

/// CPU seconds this process has used (all threads): a figure the machine's other load does not inflate.
func cpuSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

func peakRSSMB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") { return (Int(line.filter(\.isNumber)) ?? 0) / 1024 }
    return -1
}

/// Our step, as `rag finetune` takes it.
func measureOurs(model: LlamaModel, stage: String, ids: [Int], targets: [Int], rows: Int, length: Int, steps: Int) throws -> StepFigures {
    HeapPolicy.keepFreedMemory()   // as rag finetune does
    let trainable = TrainableLlama(model)
    trainable.recomputeLayers = !arguments.noRecompute
    if arguments.bf16 { trainable.frozenPrecision = .bfloat16 }
    try trainable.addLoRA(LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["q_proj", "v_proj"]), seed: 1)
    if stage == "rm" { trainable.addValueHead(seed: 1) }
    let params = trainable.trainableParameters.map(\.1)
    let optimizer = AdamW(parameters: params, learningRate: 1e-4)
    var times: [Double] = [], cpu: [Double] = []
    for step in 0...steps {
        let t0 = Date(), c0 = cpuSeconds()
        if stage == "rm" {
            // rows = 2B: chosen then rejected; −log σ(r_c − r_r) per pair
            let r = try trainable.rewards(ids, lengths: Array(repeating: length, count: rows), batch: rows, length: length)  // [2B]
            let v = r.toArray(), half = rows / 2
            var g = [Float](repeating: 0, count: rows)
            for k in 0..<half {
                let d = -1 / (1 + Foundation.exp(v[k] - v[half + k])) / Float(half)   // d loss / d r_c = −σ(r_r − r_c)
                g[k] = d; g[half + k] = -d
            }
            r.backward(gradient: try Tensor(g, shape: [rows]))
        } else {
            if stage == "dpo" {
                _ = try noGrad { try trainable.targetLogProbs(ids, targets: targets, batch: rows, length: length, mode: .off) }
            }
            let logp = try trainable.targetLogProbs(ids, targets: targets, batch: rows, length: length)   // [rows·T]
            logp.backward(gradient: Tensor(repeating: -1 / Float(rows * (length - 1)), shape: logp.shape))
        }
        _ = clipGradNorm(params, maxNorm: 1)
        optimizer.step()
        optimizer.zeroGrad()
        if step > 0 { times.append(Date().timeIntervalSince(t0)); cpu.append(cpuSeconds() - c0) }   // step 0 warms up
    }
    return StepFigures(seconds: times.reduce(0, +) / Double(times.count), cpuSeconds: cpu.reduce(0, +) / Double(cpu.count),
                       peakRSSMB: peakRSSMB())
}

/// The questions of the PPO step's prompts (the same for the peer, as token ids).
let ppoQuestions = ["What does reciprocal rank fusion add up for each document?", "How many bytes does a Q8_0 block take?",
                    "Why does HNSW keep several layers?", "What does LoRA scale its update by?",
                    "Which index does SQLite's FTS5 build?", "What is a KV cache for?",
                    "How does BM25 weigh a rare term?", "What does DPO compare?"]

/// Our PPO step as `rag finetune ppo` takes it (Finetune.ppo: rollout on the fast path, scoring,
/// the measuring passes, one epoch of clipped updates), timed from its progress reports. The reward
/// is a cheap function of the text (no reward model), the same as the peer's.
func measureOursPPO(model: LlamaModel, batch: Int, response: Int, steps: Int) throws -> (StepFigures, Double) {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-train-ppo-\(ProcessInfo.processInfo.processIdentifier)")
    defer { try? FileManager.default.removeItem(at: work) }
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    let data = work.appendingPathComponent("prompts.jsonl")
    let lines = (0..<batch).map { "{\"prompt\": \"\(ppoQuestions[$0 % ppoQuestions.count])\"}" }
    try lines.joined(separator: "\n").write(to: data, atomically: true, encoding: .utf8)
    var o = FinetuneOptions()
    o.maxSteps = steps + 1; o.epochs = 1000; o.batchSize = batch; o.gradAccum = 1; o.learningRate = 1e-4; o.warmupRatio = 0
    o.lora = LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["q_proj", "v_proj"]); o.maxLength = 512
    var p = PPOOptions()
    p.ppoEpochs = 1; p.responseLength = response; p.temperature = 0.7
    var marks: [(wall: Double, cpu: Double)] = [], lengths: [Double] = []
    _ = try Finetune.ppo(model: model, data: data, output: work.appendingPathComponent("out"), options: o, ppo: p,
                         reward: { _, text in Double(text.count % 7) / 7 }, baseModelName: "bench",
                         progress: { marks.append(($0.elapsedSeconds, cpuSeconds())); lengths.append($0.metrics["response_length"] ?? 0) })
    guard marks.count == steps + 1 else { throw ValidationError("PPO ran \(marks.count) of \(steps + 1) steps") }
    let n = Double(steps)   // step 1 warms up
    return (StepFigures(seconds: (marks[steps].wall - marks[0].wall) / n, cpuSeconds: (marks[steps].cpu - marks[0].cpu) / n,
                        peakRSSMB: peakRSSMB()), lengths.dropFirst().reduce(0, +) / n)
}

/// The peer's one JSON line.
struct PeerLine: Decodable {
    var seconds: Double
    var cpu_seconds: Double
    var peak_rss_kb: Int
    var response_tokens: Double?
}

/// A peer: a Python script that runs the same step on the same batch, in its own process (its memory is its own).
enum Peer: String, CaseIterable {
    case torchPEFT = "torch+peft"   // torch_peft_peer.py: the step's computation written out
    case trl = "TRL"                // trl_peer.py: TRL's trainer classes

    var script: String { self == .torchPEFT ? "torch_peft_peer.py" : "trl_peer.py" }
    var install: String { self == .torchPEFT ? "pip install torch transformers peft gguf" : "pip install trl==1.12.0" }
    var label: String { rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) }
}

func measurePeer(_ peer: Peer, modelPath: String, stage: String, ids: [Int], targets: [Int], rows: Int, length: Int, steps: Int,
                 prompts: [[Int]] = [], response: Int = 0) -> (StepFigures, Double?)? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(peer.script)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, modelPath, String(Threads.count), stage, String(steps), String(response),
                         arguments.bf16 ? "bf16" : "f32", arguments.noRecompute ? "keep" : "recompute"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    do { try process.run() } catch { print("\(peer.rawValue) peer: cannot start python3 (\(error))"); return nil }
    let split = { (xs: [Int]) in (0..<rows).map { Array(xs[$0 * length..<($0 + 1) * length]) } }
    let batch: [String: [[Int]]] = stage == "ppo" ? ["prompts": prompts] : ["ids": split(ids), "targets": split(targets)]
    if let data = try? JSONSerialization.data(withJSONObject: batch) { input.fileHandleForWriting.write(data) }
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let line = String(data: data, encoding: .utf8)?.split(separator: "\n").last,
          let figures = try? JSONDecoder().decode(PeerLine.self, from: Data(line.utf8)) else {
        print("\(peer.rawValue) peer failed (\(peer.install))")
        return nil
    }
    return (StepFigures(seconds: figures.seconds, cpuSeconds: figures.cpu_seconds, peakRSSMB: figures.peak_rss_kb / 1024),
            figures.response_tokens)
}

let arguments = Arguments.parseOrExit()
Threads.use(ProcessInfo.processInfo.environment["RAG_THREADS"].flatMap { Int($0) })  // the tensor core reads no environment
let env = ProcessInfo.processInfo.environment
let folder = env["RAG_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache/rag/models")
let modelPath = arguments.model ?? folder + "/SmolLM2-135M-Instruct.Q4_1.gguf"
let rows = arguments.stage == "sft" || arguments.stage == "ppo" ? arguments.batch : 2 * arguments.batch, length = arguments.length
var rng = TensorRNG(seed: 7)
let ids = (0..<(rows * length)).map { _ in Int(rng.next() % 49000) + 100 }
var targets = Array(ids.dropFirst()) + [0]
for r in 0..<rows { targets[r * length + length - 1] = -100 }   // the last position of a row predicts nothing

do {
    print("machine load: \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?"))")
    let model = try LlamaModel.load(from: URL(fileURLWithPath: modelPath))
    if arguments.stage == "ppo" {
        let (ours, generated) = try measureOursPPO(model: model, batch: arguments.batch, response: arguments.response, steps: arguments.steps)
        func ppoLine(_ who: String, _ f: StepFigures, _ tokens: Double) -> String {
            String(format: "%@ ppo step, %d threads, %d prompts, %.1f response tokens each: %.2f s/step, %.1f response tokens/s, peak RSS %d MB",
                   who, Threads.count, arguments.batch, tokens, f.seconds, tokens * Double(arguments.batch) / f.seconds, f.peakRSSMB)
        }
        print(ppoLine("ours      ", ours, generated))
        let prompts = try (0..<arguments.batch).map { try model.promptTokens(for: [ChatMessage(role: "user", content: ppoQuestions[$0 % ppoQuestions.count])]) }
        for peer in arguments.peers {
            guard let (figures, tokens) = measurePeer(peer, modelPath: modelPath, stage: "ppo", ids: [], targets: [], rows: 0, length: 0,
                                                      steps: arguments.steps, prompts: prompts, response: arguments.response) else { continue }
            print(ppoLine(peer.label, figures, tokens ?? 0))   // 0: the peer did not report its responses' length
            print(String(format: "ours / %@: %.2f× steps/s, %.2f× peak RSS", peer.rawValue, figures.seconds / ours.seconds,
                         Double(ours.peakRSSMB) / Double(max(figures.peakRSSMB, 1))))
        }
        exit(0)
    }
    let ours = try measureOurs(model: model, stage: arguments.stage, ids: ids, targets: targets, rows: rows, length: length, steps: arguments.steps)
    let tokens = Double(rows * length)
    func line(_ who: String, _ f: StepFigures) -> String {
        String(format: "%@ %@ LoRA step, %d threads, %d × %d tokens: %.2f s/step, %.0f tokens/s (%.0f per CPU second), peak RSS %d MB",
               who, arguments.stage, Threads.count, rows, length, f.seconds, tokens / f.seconds, tokens / f.cpuSeconds, f.peakRSSMB)
    }
    print(line("ours      ", ours))
    for peer in arguments.peers {
        guard let (figures, _) = measurePeer(peer, modelPath: modelPath, stage: arguments.stage, ids: ids, targets: targets,
                                             rows: rows, length: length, steps: arguments.steps) else { continue }
        print(line(peer.label, figures))
        print(String(format: "ours / %@: %.2f× tokens/s, %.2f× peak RSS", peer.rawValue, figures.seconds / ours.seconds,
                     Double(ours.peakRSSMB) / Double(max(figures.peakRSSMB, 1))))
    }
} catch {
    print("bench-train: \(error)")
    exit(1)
}
