import Foundation
import Ingest

/// Makes the base match a folder: new files are added, changed files re-indexed, files that
/// disappeared forgotten. A file whose size and mtime are unchanged costs a stat; one whose stat
/// changed is hashed, and re-indexed only if its content changed. A file that fails to load is
/// reported and its previously stored version, if any, is kept.
struct FolderSync {
    let base: any KnowledgeStore
    let embedder: any TextEmbedder
    let chunker: Chunker
    let loader: DocumentLoader
    let options: ScanOptions
    let batchSize = 32

    static func source(for root: URL) -> String { "folder:" + root.standardizedFileURL.path }

    func run(root: URL, progress: (IngestProgress) -> Void, isCancelled: () -> Bool = { false }) throws -> IngestReport {
        let started = Date()
        var report = IngestReport()
        let scan: ScanResult
        do { scan = try FolderScanner(root: root, options: options).scan() } catch {
            throw RAGError.invalidInput("\(error)")
        }
        for (reason, n) in scan.skipped where reason != .unsupportedExtension { report.skipped[reason.rawValue, default: 0] += n }
        for (ext, n) in scan.skippedExtensions { report.skipped["unsupported type \(ext.isEmpty ? "(no extension)" : "." + ext)", default: 0] += n }
        report.failed += scan.problems.map { IngestFailure(path: $0.path, reason: $0.reason) }
        report.skippedFiles = scan.skippedFiles.map { IngestFailure(path: $0.path, reason: $0.reason) }

        let source = Self.source(for: root)
        let stored = Dictionary(try base.documents(source: source).map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        let present = Set(scan.files.map(\.relativePath))
        for doc in stored.values where !present.contains(doc.path) {
            try base.removeDocument(id: doc.id)
            report.removed += 1
        }

        let bytesTotal = scan.files.reduce(Int64(0)) { $0 + $1.size }
        var bytesDone: Int64 = 0
        for (i, file) in scan.files.enumerated() {
            if isCancelled() { break }
            defer {
                bytesDone += file.size
                progress(IngestProgress(filesDone: i + 1, filesTotal: scan.files.count, chunksAdded: report.chunks,
                                        bytesDone: bytesDone, bytesTotal: bytesTotal, currentFile: file.relativePath))
            }
            let old = stored[file.relativePath]
            if let old, old.bytes == file.size, old.mtimeNanoseconds == file.mtimeNanoseconds {
                report.unchanged += 1
                continue
            }
            do {
                let hash = try ContentHash.sha256(of: file.url)
                if let old, old.contentHash == hash {
                    try base.touch(documentID: old.id, mtimeNanoseconds: file.mtimeNanoseconds)
                    report.unchanged += 1
                    continue
                }
                let record = try prepare(file, hash: hash, source: source)
                try base.put(record)
                report.chunks += record.chunks.count
                if old == nil { report.added += 1 } else { report.changed += 1 }
            } catch let e as IngestError {
                report.failed.append(IngestFailure(path: file.relativePath, reason: e.reason))
            } catch let e as RAGError {
                if case .store = e { throw e }  // the base itself failing stops the sync
                report.failed.append(IngestFailure(path: file.relativePath, reason: e.description))
            }
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Loads, chunks and embeds one file (outside any transaction, so writes stay short).
    func prepare(_ file: SourceFile, hash: String, source: String) throws -> DocumentRecord {
        let doc = try loader.load(file)
        let chunks = chunker.chunk(doc)
        var vectors: [[Float]] = []
        vectors.reserveCapacity(chunks.count)
        for start in stride(from: 0, to: chunks.count, by: batchSize) {
            let batch = chunks[start..<min(start + batchSize, chunks.count)].map(\.text)
            vectors += try embedder.embed(batch)
        }
        let records = zip(chunks, vectors).map { c, v in
            ChunkRecord(text: c.text, page: c.page, section: c.sectionTitle, charStart: c.startOffset, charEnd: c.endOffset,
                        tokens: c.tokenCount, vector: v)
        }
        return DocumentRecord(path: file.relativePath, source: source, kind: file.kind.rawValue, bytes: file.size,
                              mtimeNanoseconds: file.mtimeNanoseconds, contentHash: hash, pages: doc.pageCount,
                              title: doc.title, chunks: records)
    }
}
