// bench-embed: sentences/s of SentenceEncoder (all-MiniLM-L6-v2) on ~200-word chunks of the
// repository's corpus/, batch 32, 1 and 2 threads, beside sentence-transformers on torch CPU
// measured in the same run (bench/embed/peer_sentence_transformers.py), with peak RSS of each.
//
//   swift run -c release bench-embed [--chunks 2000] [--batch 32] [--threads 1,2] [--no-peer] [--gemm-level N]
//
// --gemm-level caps the tensor core's GEMM variant (0 portable, 1 AVX2, 2 AVX-512, 3 AMX) to see what a
// CPU without the faster ones gets; the peer runs as it would anyway.
//
// Each measurement runs in its own process (the worker computes on RAG_THREADS threads, and peak
// RSS must not mix the two implementations).

import ArgumentParser
import CKernels
import Embedder
import Foundation
import Tensor

struct Options: ParsableArguments {
    @Option(help: "How many chunks to embed.") var chunks = 2000
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Thread counts to measure, comma-separated.") var threads = "1,2"
    @Flag(name: .customLong("no-peer"), help: "Do not run sentence-transformers.") var noPeer = false
    @Option(name: .customLong("gemm-level"), help: "Cap the GEMM variant (0 portable, 1 AVX2, 2 AVX-512, 3 AMX).") var gemmLevel: Int32?
    @Option(help: ArgumentHelp("Internal: embed the chunks in this JSON file and print one measurement.", visibility: .hidden))
    var worker: String?
}
let options = Options.parseOrExit()

func peakRSSMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Double(line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
    }
    return 0
}

func modelDirectory() -> URL {
    let root = ProcessInfo.processInfo.environment["RAG_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
    return root.appendingPathComponent("all-MiniLM-L6-v2")
}

/// ~200-word windows over corpus/**/*.{md,txt}, repeated until there are `count`.
func makeChunks(count: Int) throws -> [String] {
    var dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("corpus").path) {
        guard dir.path != "/" else { throw EmbedderError.missingFile(path: "corpus/ (run from the repository)") }
        dir.deleteLastPathComponent()
    }
    let corpus = dir.appendingPathComponent("corpus")
    var files: [URL] = []
    if let walker = FileManager.default.enumerator(at: corpus, includingPropertiesForKeys: nil) {
        for case let url as URL in walker where ["md", "txt"].contains(url.pathExtension) { files.append(url) }
    }
    var windows: [String] = []
    for file in files.sorted(by: { $0.path < $1.path }) {
        let words = try String(contentsOf: file, encoding: .utf8).split(whereSeparator: \.isWhitespace)
        for start in stride(from: 0, to: words.count, by: 200) where words.count - start >= 100 {
            windows.append(words[start..<min(start + 200, words.count)].joined(separator: " "))
        }
    }
    guard !windows.isEmpty else { throw EmbedderError.missingFile(path: corpus.path + "/*.md") }
    return (0..<count).map { windows[$0 % windows.count] }
}

struct Measurement: Codable {
    var sentences_per_s: Double
    var seconds: Double
    var cpu_seconds: Double   // user + system CPU time of the timed part: less sensitive to other load
    var peak_rss_mb: Double
    var threads: Int
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Child process: load, warm up, encode every chunk once, print one JSON line.
func runWorker(chunksPath: String, batch: Int) throws {
    if let level = options.gemmLevel { _ = ck_gemm_set_simd_level(level) }
    let texts = try JSONDecoder().decode([String].self, from: Data(contentsOf: URL(fileURLWithPath: chunksPath)))
    let encoder = try SentenceEncoder.load(directory: modelDirectory())
    _ = try encoder.encode(Array(texts.prefix(batch)), batchSize: batch)
    let start = Date(), cpuStart = cpuSeconds()
    _ = try encoder.encode(texts, batchSize: batch)
    let seconds = Date().timeIntervalSince(start), cpu = cpuSeconds() - cpuStart
    let threads = Int(ProcessInfo.processInfo.environment["RAG_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount
    let m = Measurement(sentences_per_s: Double(texts.count) / seconds, seconds: seconds, cpu_seconds: cpu, peak_rss_mb: peakRSSMegabytes(), threads: threads)
    print(String(decoding: try JSONEncoder().encode(m), as: UTF8.self))
}

func run(_ executable: String, _ args: [String], env: [String: String]) throws -> Measurement {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = args
    process.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let line = String(decoding: output, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
        throw EmbedderError.invalidArgument("\(executable) \(args.joined(separator: " ")) failed (status \(process.terminationStatus))")
    }
    return try JSONDecoder().decode(Measurement.self, from: Data(line.utf8))
}

let batch = options.batch
if let chunksPath = options.worker {
    Threads.use(ProcessInfo.processInfo.environment["RAG_THREADS"].flatMap { Int($0) })  // the tensor core reads no environment
    try runWorker(chunksPath: chunksPath, batch: batch)
    exit(0)
}
let count = options.chunks
let threadCounts = options.threads.split(separator: ",").compactMap { Int($0) }
let chunks = try makeChunks(count: count)
let chunksURL = FileManager.default.temporaryDirectory.appendingPathComponent("bench-embed-chunks-\(getpid()).json")
try JSONEncoder().encode(chunks).write(to: chunksURL)
defer { try? FileManager.default.removeItem(at: chunksURL) }
let encoder = try SentenceEncoder.load(directory: modelDirectory())
let tokens = chunks.prefix(200).map { encoder.tokenize($0).count }
/// Arithmetic the model needs for one sequence of n tokens (no padding): per layer, the Q, K, V, output and MLP
/// products (2 flops per weight per token) and attention's Q K^T and P V (2 · 2 n² C).
func flops(tokens n: Int, _ c: BertConfig) -> Double {
    let weights = Double(4 * c.hiddenSize * c.hiddenSize + 2 * c.hiddenSize * c.intermediateSize)
    return Double(c.layers) * (2 * Double(n) * weights + 4 * Double(n * n * c.hiddenSize))
}
let flopsPerSentence = chunks.map { flops(tokens: encoder.tokenize($0).count, encoder.model.config) }.reduce(0, +) / Double(count)
print("bench-embed: \(count) chunks of ~200 words (mean \(tokens.reduce(0, +) / max(tokens.count, 1)) tokens, max \(encoder.maxTokens)), batch \(batch), model \(encoder.identity)")
print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?")")
let peerScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("peer_sentence_transformers.py").path
let selfPath = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
let gemmLevel = options.gemmLevel.map { ["--gemm-level", String($0)] } ?? []
print("GEMM variant: \(options.gemmLevel.map { "capped at level \($0), " } ?? "")best here \(ck_gemm_simd_level()) (0 portable, 1 AVX2, 2 AVX-512, 3 AMX)")
print(String(format: "model arithmetic: %.2f GFLOP per sentence (GFLOP/s below = sentences/s × that)", flopsPerSentence / 1e9))
print("threads | rag sent/s | rag GFLOP/s | rag peak RSS MB | s-t (torch) sent/s | s-t GFLOP/s | s-t peak RSS MB | speed ratio rag/s-t | sent per CPU-s rag, s-t, ratio")
for threads in threadCounts {
    let ours = try run(selfPath, ["--worker", chunksURL.path, "--batch", String(batch)] + gemmLevel, env: ["RAG_THREADS": String(threads)])
    var line = String(format: "%7d | %10.1f | %11.1f | %15.0f", threads, ours.sentences_per_s,
                      ours.sentences_per_s * flopsPerSentence / 1e9, ours.peak_rss_mb)
    if !options.noPeer {
        let peer = try run("/usr/bin/env", ["python3", peerScript, modelDirectory().path, chunksURL.path, String(threads), String(batch)],
                           env: ["OMP_NUM_THREADS": String(threads), "HF_HUB_OFFLINE": "1"])
        let (oursCPU, peerCPU) = (Double(count) / ours.cpu_seconds, Double(count) / peer.cpu_seconds)
        line += String(format: " | %18.1f | %11.1f | %15.0f | %18.2fx | %5.1f, %5.1f, %5.2fx", peer.sentences_per_s,
                       peer.sentences_per_s * flopsPerSentence / 1e9, peer.peak_rss_mb,
                       ours.sentences_per_s / peer.sentences_per_s, oursCPU, peerCPU, oursCPU / peerCPU)
    }
    print(line)
}
