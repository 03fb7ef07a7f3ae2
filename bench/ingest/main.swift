// bench-ingest: PDF text extraction (pages/s) against poppler's own `pdftotext` on the same files
// in the same run, chunking throughput with the simple counter, HTML folder loading, and SHA-256
// against `sha256sum`. Embedding is not part of any figure.
//   swift run -c release bench-ingest [file.pdf ...]
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import ArgumentParser
import Foundation
import Ingest

struct Options: ParsableArguments {
    @Argument(help: "PDF files to extract (default: the Debian documentation PDFs listed below).") var pdfs: [String] = []
}

let defaultPDFs = [
    "/usr/share/doc/gnuplot/gnuplot.pdf",    // Debian gnuplot-doc
    "/usr/share/doc/octave/octave.pdf",      // Debian octave-doc
    "/usr/share/doc/octave/liboctave.pdf",
]
let htmlFolder = "/usr/share/doc/octave/octave.html"

/// CPU seconds (user + system) of this process, or of its finished children. The machine is shared
/// by several builds, so CPU time is the fair measure; wall time is printed beside it.
func cpuSeconds(children: Bool = false) -> Double {
    var usage = rusage()
    getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Best CPU time of `runs` runs (of this process, or of the child processes it starts).
func best(_ runs: Int, children: Bool = false, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<runs {
        let t0 = cpuSeconds(children: children)
        try body()
        fastest = min(fastest, cpuSeconds(children: children) - t0)
    }
    return max(fastest, 1e-6)
}

func runTool(_ path: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do { try process.run() } catch { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }

let arguments = Options.parseOrExit().pdfs
let pdfPaths = (arguments.isEmpty ? defaultPDFs : arguments).filter { FileManager.default.fileExists(atPath: $0) }
if pdfPaths.isEmpty {
    print("""
        No PDFs found. The default corpus comes from Debian documentation packages:
          sudo apt-get install gnuplot-doc octave-doc poppler-utils
        (gnuplot.pdf, 311 pages; octave.pdf, 1158 pages; liboctave.pdf, 57 pages), or pass PDF paths.
        """)
    exit(0)
}
let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
setvbuf(stdout, nil, _IOLBF, 0)
print("machine load average (1/5/15 min): \(load); \(ProcessInfo.processInfo.activeProcessorCount) cores")

let pdftotext = "/usr/bin/pdftotext"
let havePdftotext = FileManager.default.isExecutableFile(atPath: pdftotext)
if !havePdftotext { print("pdftotext not found (Debian poppler-utils): peer column left empty") }

print("\n== PDF text extraction (best CPU time of 3; ours = poppler-glib text + header/footer removal + de-hyphenation + normalisation)")
print("file                pages   ours s   ours p/s   pdftotext s   pdftotext p/s   ours/pdftotext")
var documents: [LoadedDocument] = []
var totalPages = 0, totalOurs = 0.0, totalPeer = 0.0
for path in pdfPaths {
    let url = URL(fileURLWithPath: path)
    guard let file = SourceFile(url: url) else { continue }
    let loader = DocumentLoader()
    var document: LoadedDocument? = nil
    var failure: IngestError? = nil
    let ours = best(3) {
        do { document = try loader.load(file) } catch { failure = error as? IngestError }
    }
    guard let doc = document else {
        print("\(url.lastPathComponent): \(failure?.reason ?? "failed")")
        continue
    }
    documents.append(doc)
    let pages = doc.pageCount ?? 0
    var peerText = "-", peerRate = "-", ratio = "-"
    if havePdftotext {
        var ok = true
        let peer = best(3, children: true) { ok = runTool(pdftotext, ["-q", path, "/dev/null"]) && ok }
        if ok {
            peerText = f(peer, 3)
            peerRate = f(Double(pages) / peer, 0)
            ratio = f(peer / ours, 2) + "×"
            totalPeer += peer
        }
    }
    totalPages += pages
    totalOurs += ours
    print(url.lastPathComponent.padding(toLength: 18, withPad: " ", startingAt: 0),
          String(pages).leftPad(6), f(ours, 3).leftPad(8), f(Double(pages) / ours, 0).leftPad(10),
          peerText.leftPad(13), peerRate.leftPad(15), ratio.leftPad(16))
}
if totalOurs > 0 {
    print("all                ", String(totalPages).leftPad(5), f(totalOurs, 3).leftPad(8),
          f(Double(totalPages) / totalOurs, 0).leftPad(10),
          totalPeer > 0 ? f(totalPeer, 3).leftPad(13) : "-".leftPad(13),
          totalPeer > 0 ? f(Double(totalPages) / totalPeer, 0).leftPad(15) : "-".leftPad(15),
          totalPeer > 0 ? (f(totalPeer / totalOurs, 2) + "×").leftPad(16) : "-".leftPad(16))
    print("(CPU seconds; ratio > 1: ours is faster; pdftotext's time includes its process start-up, ~1–2 ms)")
}

// HTML: a real documentation folder (octave-doc's manual), scanned and loaded.
var htmlDocuments: [LoadedDocument] = []
if FileManager.default.fileExists(atPath: htmlFolder) {
    print("\n== HTML folder: \(htmlFolder)")
    var files: [SourceFile] = []
    let scanTime = best(1) {
        files = (try? FolderScanner(root: URL(fileURLWithPath: htmlFolder)).scan().files) ?? []
    }
    var bytes: Int64 = 0
    var failures = 0
    let loadTime = best(1) {
        for file in files {
            do {
                htmlDocuments.append(try DocumentLoader().load(file))
                bytes += file.size
            } catch { failures += 1 }
        }
    }
    print("scan: \(files.count) files in \(f(scanTime * 1000)) ms; load: \(f(Double(files.count) / loadTime, 0)) files/s,",
          "\(f(Double(bytes) / loadTime / 1e6)) MB/s of HTML (\(failures) refused)")
}

print("\n== Chunking with SimpleTokenCounter (256-token target, 32 overlap; best CPU time of 3)")
let chunker = Chunker(counter: SimpleTokenCounter(), targetTokens: 256, overlapTokens: 32)
for (name, docs) in [("PDF text", documents), ("HTML text", htmlDocuments)] where !docs.isEmpty {
    var chunkCount = 0
    let textBytes = docs.reduce(0) { $0 + $1.text.utf8.count }
    let time = best(3) { chunkCount = docs.reduce(0) { $0 + chunker.chunk($1).count } }
    let counting = best(3) {
        var tokens = 0
        for doc in docs { tokens &+= SimpleTokenCounter().countTokens(doc.text) }
        if tokens < 0 { print(tokens) }
    }
    print("\(name): \(f(Double(textBytes) / 1e6, 2)) MB -> \(chunkCount) chunks in \(f(time, 3)) s:",
          "\(f(Double(chunkCount) / time, 0)) chunks/s, \(f(Double(textBytes) / time / 1e6, 1)) MB/s",
          "(counting the text once alone: \(f(Double(textBytes) / counting / 1e6, 1)) MB/s, chunking/counting = \(f(counting / time, 2)))")
}

print("\n== SHA-256 of the PDFs (best CPU time of 3)")
let hashBytes = pdfPaths.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int64) ?? 0) }
let oursHash = best(3) { for path in pdfPaths { _ = try? ContentHash.sha256(of: URL(fileURLWithPath: path)) } }
let sha256sum = "/usr/bin/sha256sum"
var line = "ours: \(f(Double(hashBytes) / oursHash / 1e6, 0)) MB/s"
if FileManager.default.isExecutableFile(atPath: sha256sum) {
    let peer = best(3, children: true) { _ = runTool(sha256sum, pdfPaths) }
    line += "; sha256sum (coreutils): \(f(Double(hashBytes) / peer / 1e6, 0)) MB/s; ours/sha256sum = \(f(peer / oursHash, 2))"
}
print(line + " over \(f(Double(hashBytes) / 1e6, 1)) MB")

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
