import Foundation
import RAG

/// A deterministic, test-only `RAGService`: a small in-memory knowledge base, word-overlap
/// retrieval, hash-seeded embeddings, and "generation" that streams a fixed sentence word by word
/// with a controllable delay per token, so that queueing, disconnects and shutdown can be tested.
/// It honours the protocol's contract: `onToken` returning false or task cancellation stops
/// generation with `.cancelled`, `maxTokens` ends it with `.length`, a stop string with `.stop`.
public final class ScriptedService: RAGService, @unchecked Sendable {
    public struct Script: Sendable {
        /// Sleep before each generated token.
        public var tokenDelay: Duration = .zero
        /// Sleep inside addDocument and per file in sync.
        public var ingestDelay: Duration = .zero
        /// Words the generator emits at most (before maxTokens).
        public var answerWords = 12
        public init() {}
    }

    public static let generatorID = "smollm2-135m-instruct"
    public static let adapterID = "smollm2-135m-instruct+support-lora"
    public static let embedderID = "all-minilm-l6-v2"
    public static let dimension = 8

    public let script: Script
    public let models = ModelInfo(generator: generatorID, embedder: embedderID, adapters: [adapterID],
                                  contextLength: 2048, embeddingDimension: dimension)
    private let store = Store()
    public let counters = Counters()
    /// Closed, it holds every addDocument until opened: a test's way to keep an upload in flight.
    public let uploadGate = Gate()

    public init(script: Script = Script()) { self.script = script }

    // MARK: observation for tests

    /// Generations running now, the most ever at once, and how they ended.
    public final class Counters: @unchecked Sendable {
        private let lock = NSLock()
        private var _active = 0, _peak = 0, _started = 0, _cancelled = 0, _finished = 0
        public var active: Int { lock.withLock { _active } }
        public var peak: Int { lock.withLock { _peak } }
        public var started: Int { lock.withLock { _started } }
        public var cancelled: Int { lock.withLock { _cancelled } }
        public var finished: Int { lock.withLock { _finished } }
        func begin() { lock.withLock { _active += 1; _started += 1; _peak = max(_peak, _active) } }
        func end(_ reason: FinishReason) {
            lock.withLock { _active -= 1; if reason == .cancelled { _cancelled += 1 } else { _finished += 1 } }
        }
    }

    // MARK: RAGService

    public func search(_ query: String, options: SearchOptions) async throws -> [SearchHit] {
        let words = Set(Self.words(query))
        let chunks = await store.allChunks()
        var hits: [SearchHit] = []
        for c in chunks where Self.matches(glob: options.pathGlob, c.file) {
            let overlap = Set(Self.words(c.text)).intersection(words).count
            if overlap == 0 && options.mode != .vector { continue }
            let score = Double(overlap) / Double(max(words.count, 1))
            hits.append(SearchHit(file: c.file, page: c.page, section: c.section, score: score, text: c.text, chunkID: c.id))
        }
        hits.sort { ($0.score, -$0.chunkID) > ($1.score, -$1.chunkID) }
        return Array(hits.prefix(options.k))
    }

    public func answer(_ request: AnswerRequest, onToken: @escaping @Sendable (String) -> Bool) async throws -> AnswerResult {
        guard let question = request.messages.last(where: { $0.role == "user" })?.content else {
            throw RAGError.invalidInput("no user message")
        }
        let start = Date()
        var passages: [Passage] = []
        if request.useRetrieval {
            let hits = try await search(question, options: request.search)
            passages = hits.enumerated().map { i, h in
                Passage(n: i + 1, file: h.file, page: h.page, section: h.section, score: h.score, text: h.text, chunkID: h.chunkID)
            }
        }
        let retrieveMs = Date().timeIntervalSince(start) * 1000
        let text = passages.isEmpty
            ? "You asked: \(question)"
            : "According to \(passages[0].file), \(passages[0].text.prefix(60)) [1]"
        let (generated, reason) = try await generate(text, options: request.generation, onToken: onToken)
        let cited = passages.isEmpty ? [] : [passages[0]]
        let promptTokens = request.messages.reduce(0) { $0 + countGeneratorTokens($1.content) } + passages.reduce(0) { $0 + countGeneratorTokens($1.text) }
        return AnswerResult(answer: generated.joined(), sources: cited, passages: passages, refused: false,
                            usage: Usage(promptTokens: promptTokens, completionTokens: generated.count),
                            timings: Timings(retrieveMs: retrieveMs, prefillTokensPerS: 1000, decodeTokensPerS: 100), finishReason: reason)
    }

    public func complete(prompt: String, options: GenerationOptions, onToken: @escaping @Sendable (String) -> Bool) async throws -> CompletionResult {
        let (generated, reason) = try await generate("continues \(prompt)", options: options, onToken: onToken)
        return CompletionResult(text: generated.joined(), tokenIDs: Array(0..<generated.count), usage: Usage(promptTokens: countGeneratorTokens(prompt), completionTokens: generated.count),
                                timings: Timings(prefillTokensPerS: 1000, decodeTokensPerS: 100), finishReason: reason)
    }

    /// Streams the words of `text` (then "more" words up to `answerWords`) as tokens.
    private func generate(_ text: String, options: GenerationOptions, onToken: @escaping @Sendable (String) -> Bool) async throws -> ([String], FinishReason) {
        counters.begin()
        var pieces = text.split(separator: " ").enumerated().map { $0 == 0 ? String($1) : " " + $1 }
        while pieces.count < script.answerWords { pieces.append(" more") }
        pieces = Array(pieces.prefix(script.answerWords))
        var emitted: [String] = []
        var reason = FinishReason.stop
        var sofar = ""
        for (i, piece) in pieces.enumerated() {
            if i >= options.sampling.maxTokens { reason = .length; break }
            if script.tokenDelay > .zero {
                do { try await Task.sleep(for: script.tokenDelay) } catch { reason = .cancelled; break }
            }
            if Task.isCancelled { reason = .cancelled; break }
            sofar += piece
            if let stop = options.sampling.stop.first(where: { sofar.contains($0) }) {
                _ = stop; reason = .stop; break
            }
            emitted.append(piece)
            if !onToken(piece) { reason = .cancelled; break }
        }
        counters.end(reason)
        return (emitted, reason)
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        texts.map(Self.embedding)
    }

    /// A unit vector seeded from the text's FNV-1a hash: equal texts give equal vectors.
    public static func embedding(_ text: String) -> [Float] {
        var h = fnv1a(text)
        var v = (0..<dimension).map { i -> Float in
            h = h &* 6364136223846793005 &+ 1442695040888963407 &+ UInt64(i)
            return Float(Int64(bitPattern: h >> 11) % 2000 - 1000) / 1000
        }
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
        v = v.map { $0 / norm }
        return v
    }

    public func countGeneratorTokens(_ text: String) -> Int { Self.words(text).count }

    public func documents(offset: Int, limit: Int) async throws -> (total: Int, items: [DocumentInfo]) {
        await store.documents(offset: offset, limit: limit)
    }

    public func addDocument(fileName: String, data: Data) async throws -> DocumentInfo {
        if script.ingestDelay > .zero { try await Task.sleep(for: script.ingestDelay) }
        await uploadGate.pass()
        guard let text = String(data: data, encoding: .utf8) else { throw RAGError.invalidInput("\(fileName): not UTF-8 text") }
        return await store.add(path: "uploads/" + fileName, text: text)
    }

    public func deleteDocument(id: Int64) async throws -> Bool { await store.delete(id: id) }

    public func sync(progress: @escaping @Sendable (IngestProgress) -> Void) async throws -> IngestReport {
        let start = Date()
        let files = Self.seedDocuments
        var report = IngestReport()
        for (i, f) in files.enumerated() {
            if script.ingestDelay > .zero { try await Task.sleep(for: script.ingestDelay) }
            try Task.checkCancellation()
            if await store.contains(path: f.path) { report.unchanged += 1 } else {
                let info = await store.add(path: f.path, text: f.text); report.added += 1; report.chunks += info.chunks
            }
            progress(IngestProgress(filesDone: i + 1, filesTotal: files.count, chunksAdded: report.chunks,
                                    bytesDone: Int64(files.prefix(i + 1).reduce(0) { $0 + $1.text.utf8.count }),
                                    bytesTotal: Int64(files.reduce(0) { $0 + $1.text.utf8.count }), currentFile: f.path))
        }
        report.skipped = ["unsupported extension": 1]
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    public func stats() async throws -> StoreStats {
        let (docs, chunks) = await store.counts()
        return StoreStats(documents: docs, chunks: chunks, vectors: chunks, fileBytes: 4096, embedder: Self.embedderID, dimension: Self.dimension)
    }

    /// Fills the base with the seed documents, as a sync of the configured folder would.
    public func seed() async {
        for f in Self.seedDocuments { _ = await store.add(path: f.path, text: f.text) }
    }

    public static let seedDocuments: [(path: String, text: String)] = [
        ("guide/install.md", "Install rag with swift build. The server listens on port 8080 by default.\n\nModels live in the cache folder under rag models."),
        ("guide/search.md", "Hybrid search fuses vector similarity and BM25 ranks with reciprocal rank fusion.\n\nThe default k is ten passages."),
        ("notes/llamas.txt", "Llamas are camelids from South America. A llama can carry a quarter of its weight."),
    ]

    public actor Gate {
        private var isOpen = true
        private var waiters: [CheckedContinuation<Void, Never>] = []
        public init() {}
        public var waiting: Int { waiters.count }
        public func close() { isOpen = false }
        public func open() { isOpen = true; waiters.forEach { $0.resume() }; waiters = [] }
        func pass() async {
            if isOpen { return }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    // MARK: helpers

    static func words(_ s: String) -> [String] {
        s.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    static func matches(glob: String?, _ path: String) -> Bool {
        guard let glob else { return true }
        return fnmatch(glob, path, 0) == 0
    }

    actor Store {
        struct Chunk { var id: Int64; var file: String; var page: Int?; var section: String?; var text: String }
        var docs: [DocumentInfo] = []
        var chunks: [Int64: [Chunk]] = [:]
        var nextDoc: Int64 = 1, nextChunk: Int64 = 1

        func add(path: String, text: String) -> DocumentInfo {
            if let old = docs.first(where: { $0.path == path }) { _ = delete(id: old.id) }
            let paragraphs = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let id = nextDoc; nextDoc += 1
            chunks[id] = paragraphs.enumerated().map { i, p in
                defer { nextChunk += 1 }
                return Chunk(id: nextChunk, file: path, page: nil, section: i == 0 ? nil : "part \(i + 1)", text: p)
            }
            let hash = fnv1a(text)
            let info = DocumentInfo(id: id, path: path, bytes: Int64(text.utf8.count), chunks: paragraphs.count, pages: nil,
                                    contentHash: String(hash, radix: 16), ingestedAt: Date(timeIntervalSince1970: 1_790_000_000 + Double(id)))
            docs.append(info)
            return info
        }
        func delete(id: Int64) -> Bool {
            guard let i = docs.firstIndex(where: { $0.id == id }) else { return false }
            docs.remove(at: i); chunks[id] = nil
            return true
        }
        func contains(path: String) -> Bool { docs.contains { $0.path == path } }
        func documents(offset: Int, limit: Int) -> (total: Int, items: [DocumentInfo]) {
            (docs.count, Array(docs.dropFirst(offset).prefix(limit)))
        }
        func allChunks() -> [Chunk] { docs.flatMap { chunks[$0.id] ?? [] } }
        func counts() -> (Int, Int) { (docs.count, chunks.values.reduce(0) { $0 + $1.count }) }
    }
}

/// FNV-1a (64-bit) of the text's UTF-8: the scripted service's stable stand-in for embeddings and content hashes.
func fnv1a(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
