// bench-tokenizers: WordPiece (all-MiniLM-L6-v2) and byte-level BPE (SmolLM2 tokenizer.json when
// present) throughput on a long English text, with Hugging Face tokenizers (Rust, via Python) as
// the peer measured in the same run when python3 + tokenizers are installed.
// swift run -c release bench-tokenizers
import Foundation
import Tokenizers

let models = ProcessInfo.processInfo.environment["RAG_MODELS"].map { URL(fileURLWithPath: $0) }
    ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
let paragraph = """
Retrieval-augmented generation combines a search index with a language model, so that answers cite the \
passages they were drawn from. The ingest step walks a folder, splits every document into overlapping \
chunks of a few hundred tokens, embeds each chunk, and stores the vectors in an HNSW graph next to a \
full-text index. At question time, both indexes are searched, their rankings fused, and the best passages \
are numbered and placed into the prompt; the generator then writes an answer with [n] citations.
"""
let text = Array(repeating: paragraph, count: 2000).joined(separator: "\n\n")  // ~1.7 MB

func measure(_ label: String, _ body: () -> Int) -> Double {
    _ = body()  // warm up (caches)
    let start = Date()
    var tokens = 0, runs = 0
    repeat { tokens += body(); runs += 1 } while Date().timeIntervalSince(start) < 2
    let rate = Double(tokens) / Date().timeIntervalSince(start)
    print(String(format: "%@: %.2f M tokens/s (%d tokens per run, %d runs)", label, rate / 1e6, tokens / runs, runs))
    return rate
}

func peer(_ kind: String, _ file: URL) -> Double? {
    let script = """
    import sys, time
    from tokenizers import Tokenizer
    t = Tokenizer.from_file(sys.argv[1]); t.no_truncation(); t.no_padding(); text = sys.stdin.read()
    t.encode(text, add_special_tokens=False)
    start = time.time(); n = 0; runs = 0
    while time.time() - start < 2:
        n += len(t.encode(text, add_special_tokens=False).ids); runs += 1
    print(n / (time.time() - start))
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, file.path]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    input.fileHandleForWriting.write(Data(text.utf8))
    try? input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let rate = Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
        print("\(kind) peer (HF tokenizers via python3): not available")
        return nil
    }
    print(String(format: "%@ peer HF tokenizers (Rust, 1 call on the whole text): %.2f M tokens/s", kind, rate / 1e6))
    return rate
}

print("machine load: \((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .newlines) ?? "?")")
let miniLM = models.appendingPathComponent("all-MiniLM-L6-v2")
do {
    let wordPiece = try WordPieceTokenizer(directory: miniLM)
    let ours = measure("WordPiece countTokens", { wordPiece.countTokens(text) })
    _ = measure("WordPiece encode (no truncation)", { wordPiece.encode(text, maxLength: Int.max).count })
    if let theirs = peer("WordPiece", miniLM.appendingPathComponent("tokenizer.json")) {
        print(String(format: "WordPiece ratio ours/peer: %.2f", ours / theirs))
    }
} catch { print("WordPiece: \(error)") }

let bpeJSON = URL(fileURLWithPath: "/tmp/smollm2_tokenizer.json")  // written by scripts/fixtures/make_tokenizer_fixtures.py
do {
    let bpe = try BPETokenizer(tokenizerJSON: bpeJSON)
    let ours = measure("BPE encode", { bpe.encode(text).count })
    if let theirs = peer("BPE", bpeJSON) { print(String(format: "BPE ratio ours/peer: %.2f", ours / theirs)) }
} catch { print("BPE (needs \(bpeJSON.path)): \(error)") }
