// bench-generate: prefill tokens/s (≈400-token prompt) and decode tokens/s (128 greedy tokens) of
// our DecodingSession on the real GGUF at 1 and 2 threads, side by side with llama.cpp
// (llama-cpp-python, bench/generate/llama_cpp_peer.py) on the same file and token ids, in the same
// run; peak RSS of each process; ratios ours / llama.cpp.
//
//   swift run -c release bench-generate [--threads 1,2] [--prompt-tokens 400] [--decode 128] [--no-peer]
//                                       [--adapter PEFT_FOLDER]   (ours with a LoRA adapter applied)
//                                       [--busy N]   (N processes spinning on the CPU meanwhile: a busy neighbour)
// Model: RAG_MODELS or ~/.cache/rag/models/SmolLM2-135M-Instruct.Q4_1.gguf.

import ArgumentParser
@preconcurrency import Foundation
import Generator
import Tensor
import Tokenizers

struct Figures {
    var prefill: Double
    var decode: Double
}

struct Arguments: ParsableArguments {
    @Option(help: "GGUF model (default: SmolLM2-135M-Instruct.Q4_1.gguf in RAG_MODELS or ~/.cache/rag/models).") var model: String?
    @Option(help: "Thread counts to measure, comma-separated.") var threads = "1,2"
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for prefill.") var promptTokens = 400
    @Option(help: "Greedy tokens to decode.") var decode = 128
    @Flag(name: .customLong("no-peer"), help: "Do not run llama.cpp.") var noPeer = false
    @Option(help: "A LoRA adapter folder (PEFT layout) applied to ours.") var adapter: String?
    @Option(help: "Processes that spin on the CPU while both are measured (a busy neighbour, as on a shared machine).") var busy = 0
}
let arguments = Arguments.parseOrExit()

let env = ProcessInfo.processInfo.environment
let folder = env["RAG_MODELS"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache/rag/models")
let modelPath = arguments.model ?? folder + "/SmolLM2-135M-Instruct.Q4_1.gguf"
let threadCounts = arguments.threads.split(separator: ",").compactMap { Int($0) }
let promptLength = arguments.promptTokens
let decodeTokens = arguments.decode
let runPeer = !arguments.noPeer

let baseModel = try LlamaModel.load(from: URL(fileURLWithPath: modelPath))
let model = try arguments.adapter.map { try baseModel.adapted(by: URL(fileURLWithPath: $0)) } ?? baseModel
let passage = """
    The hierarchical navigable small world graph stores every vector on the bottom layer and a \
    geometrically shrinking sample on the layers above. A search enters at the top, walks greedily \
    towards the query, and descends; on the bottom layer it keeps a candidate list of size ef. \
    Reciprocal rank fusion merges the lexical and the vector lists by summing one over sixty plus rank.
    """
var question = ""
var prompt: [Int] = []
while prompt.count < promptLength {
    question += passage + "\n"
    prompt = try model.promptTokens(for: [ChatMessage(role: "user", content: question + "\nQuestion: how does the search start?")])
}
prompt = Array(prompt.suffix(promptLength))
print("model \(model.url.lastPathComponent)\(model.adapter.map { " + LoRA adapter \($0.name)" } ?? ""): \(model.config.layers) layers, dim \(model.config.dim); prompt \(prompt.count) tokens, decode \(decodeTokens) tokens")
print("machine load: \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?"))")

@MainActor func measureOurs(threads: Int) throws -> Figures {
    _ = Threads.blasConfigured  // OpenBLAS single-threaded, as in the product: the DecodingSession splits the work
    let gen = DecodingSession(model: model, contextLength: 1024, threads: threads)
    let options = SamplingOptions.greedy(maxTokens: decodeTokens + 1).withoutEndOfTurn
    _ = try gen.generate(promptTokens: Array(prompt.prefix(16)), options: .greedy(maxTokens: 4))  // warm-up
    var best = Figures(prefill: 0, decode: 0)
    for _ in 0..<2 {  // best of two
        gen.reset()
        let out = try gen.generate(promptTokens: prompt, options: options)
        best.prefill = max(best.prefill, Double(prompt.count) / out.prefillSeconds)
        best.decode = max(best.decode, out.decodeTokensPerSecond)
    }
    return best
}

@MainActor func measurePeer(threads: Int) -> (Figures, Int)? {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("llama_cpp_peer.py")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script.path, modelPath, String(threads), String(decodeTokens)]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    do { try process.run() } catch { print("llama.cpp peer: cannot start python3 (\(error))"); return nil }
    input.fileHandleForWriting.write(Data("\(prompt)".utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let prefill = json["prefill_tps"] as? Double, let decode = json["decode_tps"] as? Double,
          let rss = json["peak_rss_kb"] as? Int else {
        print("llama.cpp peer failed (is llama-cpp-python installed? pip install llama-cpp-python)")
        return nil
    }
    return (Figures(prefill: prefill, decode: decode), rss)
}

func peakRSSKilobytes() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return usage.ru_maxrss
}

func f(_ x: Double) -> String { String(format: "%8.1f", x) }

/// The busy neighbour: `count` shells spinning until this bench ends (they are stopped at the end,
/// and die with it: each checks that its parent is still this process).
func startNeighbours(_ count: Int) -> [Process] {
    (0..<count).compactMap { _ in
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "parent=\(ProcessInfo.processInfo.processIdentifier); while kill -0 $parent 2>/dev/null; do i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; done"]
        return (try? p.run()) != nil ? p : nil
    }
}
let neighbours = startNeighbours(arguments.busy)
if !neighbours.isEmpty {
    Thread.sleep(forTimeInterval: 1)
    print("busy neighbour: \(neighbours.count) spinning processes; machine load now \(String((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.prefix(14) ?? "?"))")
}

print("threads | ours prefill tok/s | ours decode tok/s | llama.cpp prefill | llama.cpp decode | ratio prefill | ratio decode")
var peerRSS: Int?
for threads in threadCounts {
    let ours = try measureOurs(threads: threads)
    let peer = runPeer ? measurePeer(threads: threads) : nil
    if let peer { peerRSS = max(peerRSS ?? 0, peer.1) }
    let peerPrefill = peer.map { f($0.0.prefill) } ?? "       -"
    let peerDecode = peer.map { f($0.0.decode) } ?? "       -"
    let ratioPrefill = peer.map { String(format: "%5.2f×", ours.prefill / $0.0.prefill) } ?? "    -"
    let ratioDecode = peer.map { String(format: "%5.2f×", ours.decode / $0.0.decode) } ?? "    -"
    print("\(threads)       | \(f(ours.prefill))           | \(f(ours.decode))          | \(peerPrefill)          | \(peerDecode)         | \(ratioPrefill)        | \(ratioDecode)")
}
print("peak RSS: ours \(peakRSSKilobytes() / 1024) MB" + (peerRSS.map { ", llama.cpp \($0 / 1024) MB" } ?? ""))
for p in neighbours { p.terminate() }
