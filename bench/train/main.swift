// bench-train: tokens/s of one LoRA training step on SmolLM2-135M Q4_1 (QLoRA: the projections stay
// in their GGUF blocks), as `rag finetune` runs it: SFT (r = 8 on q_proj and v_proj, a batch of
// B × T tokens, loss on every position) and DPO (B pairs of T-token sequences, the reference forward
// included), with the peak resident memory of the process.
//
//   swift run -c release bench-train [sft|dpo] [--batch 4] [--length 256] [--steps 3] [--model PATH]
//   RAG_THREADS=1 … for one thread; bench/train/run.sh runs both stages at 1 and 2 threads.

import Foundation
import Generator
import Tensor

var stage = "sft", batch = 4, length = 256, steps = 3
var modelPath = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models/SmolLM2-135M-Instruct.Q4_1.gguf").path
if let env = ProcessInfo.processInfo.environment["RAG_MODELS"], !env.isEmpty { modelPath = env + "/SmolLM2-135M-Instruct.Q4_1.gguf" }
var args = Array(CommandLine.arguments.dropFirst())
while !args.isEmpty {
    let a = args.removeFirst()
    switch a {
    case "sft", "dpo": stage = a
    case "--batch": batch = Int(args.removeFirst()) ?? batch
    case "--length": length = Int(args.removeFirst()) ?? length
    case "--steps": steps = Int(args.removeFirst()) ?? steps
    case "--model": modelPath = args.removeFirst()
    default: print("unknown argument \(a)"); exit(2)
    }
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

do {
    let model = try LlamaModel.load(from: URL(fileURLWithPath: modelPath))
    let trainable = TrainableLlama(model)
    try trainable.addLoRA(LoRAOptions(rank: 8, alpha: 16, dropout: 0, targets: ["q_proj", "v_proj"]), seed: 1)
    let params = trainable.trainableParameters.map(\.1)
    let optimizer = AdamW(parameters: params, learningRate: 1e-4)
    var rng = TensorRNG(seed: 7)
    let rows = stage == "sft" ? batch : 2 * batch
    let ids = (0..<(rows * length)).map { _ in Int(rng.next() % 49000) + 100 }
    var targets = Array(ids.dropFirst()) + [0]
    for r in 0..<rows { targets[r * length + length - 1] = -100 }
    var times: [Double] = [], cpu: [Double] = []
    for step in 0...steps {
        let t0 = Date(), c0 = cpuSeconds()
        if stage == "dpo" {
            _ = try noGrad { try trainable.targetLogProbs(ids, targets: targets, batch: rows, length: length, mode: .off) }
        }
        let logp = try trainable.targetLogProbs(ids, targets: targets, batch: rows, length: length)
        logp.backward(gradient: Tensor(repeating: -1 / Float(rows * length), shape: logp.shape))
        _ = clipGradNorm(params, maxNorm: 1)
        optimizer.step()
        optimizer.zeroGrad()
        if step > 0 { times.append(Date().timeIntervalSince(t0)); cpu.append(cpuSeconds() - c0) }   // step 0 warms up
    }
    let mean = times.reduce(0, +) / Double(max(times.count, 1))
    let cpuMean = cpu.reduce(0, +) / Double(max(cpu.count, 1))
    let tokens = Double(rows * length)
    print(String(format: "%@ LoRA step, %d threads, batch %d × %d tokens: %.2f s/step, %.0f tokens/s (%.0f tokens per CPU second), peak RSS %d MB",
                 stage, Threads.count, rows, length, mean, tokens / mean, tokens / cpuMean, peakRSSMB()))
} catch {
    print("bench-train: \(error)")
    exit(1)
}
