import Foundation
import Ingest
import Tokenizers

/// The pipeline both front ends use: one knowledge base, its embedder, and (loaded on first use)
/// the generator. Decides what to retrieve, what goes into the prompt, when to refuse, and which
/// sources an answer cites.
public final class RAGPipeline: RAGService, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Where the knowledge base is: a SQLite file or a PostgreSQL database.
        public var store: StoreLocation
        public var embedderPath: String?
        public var generatorPath: String?
        /// A LoRA adapter folder (PEFT layout) for the generator: used by default when set; the
        /// plain generator stays available by its name.
        public var adapterPath: String?
        /// With no `adapterPath`, the default generator runs with the project's adapter
        /// (`ModelLocator.defaultAdapterName`) when it is installed; false runs the base alone
        /// (`--no-adapter`). Another generator never gets the default adapter.
        public var useDefaultAdapter = true
        public var templatePath: String?
        /// The folder `sync` re-reads; defaults to the folder last ingested into this base.
        public var folder: URL?
        public var scan = FileSelection()
        public var chunkTokens = 256
        public var chunkOverlap = 32
        /// Below this cosine similarity between the question and the best passage, the pipeline
        /// says it found nothing instead of generating.
        public var minRelevance = 0.3
        /// Tokens of context the prompt may use (capped by the model's own limit).
        public var contextBudget = 4096
        /// What a follow-up question retrieves with. On corpus/evaluation/followups.jsonl
        /// (`rag eval followups`) hit@5 is 1.000 with the recent turns, 0.929 for the question
        /// alone and 0.881 rewritten by SmolLM2-135M.
        public var followUpRetrieval = FollowUpRetrieval.recentTurns
        public var models = ModelLocator()

        public init(store: StoreLocation) { self.store = store }
        /// A SQLite base in this file.
        public init(database: URL) { self.store = .sqlite(database) }

        /// The adapter the generator runs with by default, by the rule above.
        public var activeAdapterPath: String? {
            if let adapterPath { return adapterPath }
            guard useDefaultAdapter, models.isDefaultGenerator(generatorPath) else { return nil }
            return models.defaultAdapter()?.path
        }
    }

    public let configuration: Configuration
    public let base: any KnowledgeStore
    public let embedder: any TextEmbedder
    let template: PromptTemplate
    private let generatorLoader: @Sendable () throws -> any TextGenerator
    private var loadedGenerator: (any TextGenerator)?
    private var loadedAdapter: (any TextGenerator)?
    private var loadedCalibration: RefusalCalibration?
    private let generatorLock = NSLock()

    public init(configuration: Configuration, embedder: any TextEmbedder,
                generator: @escaping @Sendable () throws -> any TextGenerator) throws {
        self.configuration = configuration
        self.embedder = embedder
        self.generatorLoader = generator
        self.template = try configuration.templatePath.map { try PromptTemplate(contentsOf: URL(fileURLWithPath: $0)) } ?? .standard
        self.base = try configuration.store.open(embedder: embedder.identity)
    }

    /// The generator, loaded once on first need (searching never loads it).
    public func generator() throws -> any TextGenerator {
        generatorLock.lock()
        defer { generatorLock.unlock() }
        if let g = loadedGenerator { return g }
        let g = try generatorLoader()
        loadedGenerator = g
        return g
    }

    /// The generator a request asks for by name (nil = the default: the adapter when one is set).
    public func generator(named requested: String?) throws -> any TextGenerator {
        let info = models
        let wanted = requested ?? info.defaultGenerationModel
        if wanted == info.generator { return try generator() }
        guard let adapterPath = configuration.activeAdapterPath, info.adapters.contains(wanted) else {
            throw RAGError.invalidInput("model '\(wanted)': not served here (models: \(([info.generator] + info.adapters).joined(separator: ", ")))")
        }
        let base = try generator()
        generatorLock.lock()
        defer { generatorLock.unlock() }
        if let adapted = loadedAdapter { return adapted }
        let folder = URL(fileURLWithPath: adapterPath, isDirectory: true)
        let adapted = try base.adapted(by: folder)
        let calibration = try RefusalCalibration.load(adapterFolder: folder)
        try calibration?.probe?.check(against: adapted, file: folder.appendingPathComponent(RefusalCalibration.fileName).path)
        loadedCalibration = calibration
        loadedAdapter = adapted
        return adapted
    }

    /// The refusal calibration of the adapter a request runs with: nil for the base model, or an
    /// adapter whose folder has none.
    public func refusalCalibration(named requested: String?) throws -> RefusalCalibration? {
        guard (requested ?? models.defaultGenerationModel) != models.generator else { return nil }
        _ = try generator(named: requested)
        return generatorLock.withLock { loadedCalibration }
    }

    public var models: ModelInfo {
        let name = configuration.generatorPath.map { URL(fileURLWithPath: $0).lastPathComponent } ?? ModelLocator.defaultGeneratorName
        let adapters = configuration.activeAdapterPath.map { [URL(fileURLWithPath: $0).standardizedFileURL.lastPathComponent] } ?? []
        return ModelInfo(generator: name, embedder: embedder.identity.name, adapters: adapters,
                         contextLength: configuration.contextBudget, embeddingDimension: embedder.identity.dimension)
    }

    // MARK: ingest

    var chunker: Chunker {
        Chunker(counter: EmbedderTokenCounter(embedder: embedder), targetTokens: configuration.chunkTokens,
                overlapTokens: configuration.chunkOverlap)
    }

    /// Syncs `folder` into the base and remembers it as the folder `sync` re-reads.
    public func ingest(folder: URL, progress: @escaping (IngestProgress) -> Void, isCancelled: () -> Bool = { false }) throws -> IngestReport {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw RAGError.invalidInput("\(folder.path): no such folder")
        }
        let sync = FolderSync(base: base, embedder: embedder, chunker: chunker,
                              loader: DocumentLoader(maxFileSize: configuration.scan.maxFileSize), options: configuration.scan.scanOptions)
        let report = try sync.run(root: folder, progress: progress, isCancelled: isCancelled)
        try base.setSetting("root", folder.standardizedFileURL.path)
        return report
    }

    public func sync(progress: @escaping @Sendable (IngestProgress) -> Void) async throws -> IngestReport {
        let folder: URL
        if let f = configuration.folder { folder = f } else if let recorded = try await runOffPool({ _ in try self.base.setting("root") }) {
            folder = URL(fileURLWithPath: recorded, isDirectory: true)
        } else {
            throw RAGError.invalidInput("no folder to sync: give one (rag ingest DIR, or --folder for the server)")
        }
        return try await runOffPool { flag in try self.ingest(folder: folder, progress: progress, isCancelled: { flag.isCancelled }) }
    }

    /// Where uploaded files are kept on this machine (`StoreLocation.uploadsFolder`).
    public var uploadsFolder: URL { configuration.store.uploadsFolder }

    public func addDocument(fileName: String, data: Data) async throws -> DocumentInfo {
        let name = try UploadName.sanitize(fileName)
        guard FileKind.forExtension((name as NSString).pathExtension) != nil else {
            throw RAGError.invalidInput("\(name): unsupported file type (use .txt, .md, .markdown, .html, .htm or .pdf)")
        }
        let folder = uploadsFolder
        return try await runOffPool { _ in
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            // Written under a hidden name first and renamed over `name` only once the document is
            // stored: a refused upload leaves no file, and a refused new version keeps the old one.
            let staging = folder.appendingPathComponent(".incoming-\(UUID().uuidString)-\(name)")
            try data.write(to: staging)
            defer { try? FileManager.default.removeItem(at: staging) }
            guard let file = SourceFile(url: staging, relativePath: name) else {
                throw RAGError.invalidInput("\(name): the upload could not be read back")
            }
            let sync = FolderSync(base: self.base, embedder: self.embedder, chunker: self.chunker,
                                  loader: DocumentLoader(maxFileSize: self.configuration.scan.maxFileSize), options: self.configuration.scan.scanOptions)
            let record: DocumentRecord
            do { record = try sync.prepare(file, hash: ContentHash.sha256(of: staging), source: Self.uploadSource) } catch let e as IngestError {
                throw RAGError.invalidInput("\(name): \(e.reason)")
            }
            let id = try self.base.put(record)
            if self.base.keepsUploadedFiles {
                // Kept in the base, so every server serves it; no copy here that another
                // machine's new version of the document would leave stale.
                do { try self.base.saveUploadedFile(documentID: id, data: data) } catch {
                    throw RAGError.store("\(name) is stored, but its file could not be kept in \(self.base.location) (\(error))")
                }
            } else if rename(staging.path, folder.appendingPathComponent(name).path) != 0 {
                throw RAGError.store("\(name) is stored, but its file could not be kept in \(folder.path) (errno \(errno))")
            }
            guard let info = try self.base.document(id: id) else { throw RAGError.store("document \(id) vanished after writing") }
            return info
        }
    }

    static let uploadSource = "upload"

    public func deleteDocument(id: Int64) async throws -> Bool {
        try await runOffPool { _ in try self.removeDocument(id: id) }
    }

    /// Forgets a document; an uploaded one's file goes from the uploads folder too.
    public func removeDocument(id: Int64) throws -> Bool {
        let stored = try base.storedDocument(id: id)
        guard try base.removeDocument(id: id) else { return false }
        if let stored, stored.source == Self.uploadSource {
            try? FileManager.default.removeItem(at: base.keepsUploadedFiles ? cachedUploadFolder(stored) : uploadsFolder.appendingPathComponent(stored.path))
        }
        return true
    }

    public func documents(offset: Int, limit: Int) async throws -> (total: Int, items: [DocumentInfo]) {
        // Store calls may wait on the database (PostgreSQL): off the cooperative pool, as model calls.
        try await runOffPool { _ in try self.base.documentInfos(offset: offset, limit: limit) }
    }

    public func stats() async throws -> StoreStats { try await runOffPool { _ in try self.base.stats() } }

    public func saveJob(id: String, record: Data) async throws {
        try await runOffPool { _ in try self.base.saveJob(id: id, record: String(decoding: record, as: UTF8.self)) }
    }

    public func job(id: String) async throws -> Data? {
        try await runOffPool { _ in try self.base.job(id: id).map { Data($0.utf8) } }
    }

    // MARK: retrieval

    func retrieve(_ query: String, options: SearchOptions) throws -> [RetrievedChunk] {
        try Retriever(base: base, embedder: embedder).retrieve(query, options: options)
    }

    public func search(_ query: String, options: SearchOptions) async throws -> [SearchHit] {
        try options.check(for: .search)
        // Embedding the query is a model call: off the cooperative pool, like every other.
        return try await runOffPool { _ in
            try self.retrieve(query, options: options).map {
                SearchHit(file: $0.chunk.path, page: $0.chunk.page, section: $0.chunk.section, score: $0.score,
                          text: $0.chunk.text, chunkID: $0.chunk.id)
            }
        }
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        try await runOffPool { _ in try self.embedder.embed(texts) }
    }

    public func countGeneratorTokens(_ text: String) -> Int {
        (try? generator().countTokens(text)) ?? PromptBudget.estimatedTokens(text)
    }

    // MARK: answering

    public static let refusal = "I don't know: the documents I have don't seem to cover this."

    public func answer(_ request: AnswerRequest, onToken: @escaping @Sendable (String) -> Bool) async throws -> AnswerResult {
        try await runOffPool { flag in try self.answerSync(request, isCancelled: { flag.isCancelled }, onToken: onToken) }
    }

    func answerSync(_ request: AnswerRequest, isCancelled: () -> Bool, onToken: (String) -> Bool) throws -> AnswerResult {
        _ = try checkedQuestion(request)
        let gen = try generator(named: request.generation.model)
        var timings = Timings()
        let prepared = try prepare(request, generator: gen, timings: &timings)
        if prepared.refused {
            _ = onToken(Self.refusal)
            return AnswerResult(answer: Self.refusal, sources: [], passages: [], refused: true,
                                usage: Usage(promptTokens: 0, completionTokens: 0), timings: timings, finishReason: .stop)
        }
        let passages = prepared.passages
        let prompt = prepared.promptTokens
        if prompt.count + request.generation.sampling.maxTokens > gen.contextLength {
            throw RAGError.invalidInput("prompt of \(prompt.count) tokens + max_tokens \(request.generation.sampling.maxTokens) exceeds the context of \(gen.contextLength)")
        }
        var options = request.generation
        let calibration = request.calibratedRefusal ? try refusalCalibration(named: request.generation.model) : nil
        if let probe = calibration?.probe, probe.declines(score: try probe.score(gen, promptTokens: prompt)) {
            // The adapter reads the passages as not holding the answer: decline, showing what was found.
            _ = onToken(Self.refusal)
            return AnswerResult(answer: Self.refusal, sources: [], passages: passages, refused: true,
                                usage: Usage(promptTokens: prompt.count, completionTokens: 0), timings: timings, finishReason: .stop)
        }
        if let c = calibration, let first = c.firstToken(gen) {
            options.sampling.firstTokenBias[first, default: 0] += c.bias
        }
        var check = request.checkCitations ? CitationCheck(passages: passages, question: prepared.question) : nil
        let out = try gen.generate(promptTokens: prompt, options: options) { piece in
            guard !isCancelled() else { return false }
            guard check != nil else { return onToken(piece) }
            let shown = check?.feed(piece) ?? piece
            return shown.isEmpty || onToken(shown)
        }
        if let tail = check?.finish(), !tail.isEmpty, !isCancelled() { _ = onToken(tail) }  // a marker left unfinished
        if !isCancelled(), let tail = check?.citeIfUncited(), !tail.isEmpty { _ = onToken(tail) }
        let answer = check?.text ?? out.text
        timings.prefillTokensPerS = out.timings.prefillTokensPerS
        timings.decodeTokensPerS = out.timings.decodeTokensPerS
        let cited = Citations.cited(in: answer, passageCount: passages.count)
        let sources = cited.compactMap { n in passages.first { $0.n == n } }
        return AnswerResult(answer: answer, sources: sources.isEmpty ? passages : sources, cited: !sources.isEmpty,
                            passages: passages, refused: false, citationsRenumbered: check?.corrections ?? 0,
                            citationAdded: check?.added ?? false,
                            usage: out.usage, timings: timings, finishReason: out.finishReason)
    }

    /// How far below the best first token of this question's answer the first token of `refusal` is
    /// (a logit difference, ≥ 0; 0 = greedy decoding starts declining), with the request's model and
    /// no calibration applied, and the hidden states after `probeLayers` blocks at the prompt's end; nil
    /// when the pipeline declines the question itself (nothing relevant).
    /// `rag eval refusal` calibrates `RefusalCalibration` from these.
    func refusalSignals(_ request: AnswerRequest, refusal: String, probeLayers: [Int] = []) throws -> (margin: Float, hidden: [[Float]])? {
        _ = try checkedQuestion(request)
        let gen = try generator(named: request.generation.model)
        var timings = Timings()
        let prepared = try prepare(request, generator: gen, timings: &timings)
        if prepared.refused { return nil }
        guard let first = RefusalCalibration(refusal: refusal, bias: 0).firstToken(gen) else {
            throw RAGError.invalidInput("the refusal text is empty")
        }
        // the hidden state first: its full prefill leaves the cache the logits' pass then reuses
        let hidden = probeLayers.isEmpty ? [] : try gen.hiddenStates(promptTokens: prepared.promptTokens, layers: probeLayers)
        let logits = try gen.firstTokenLogits(promptTokens: prepared.promptTokens)
        guard first < logits.count, let best = logits.max() else { throw RAGError.invalidInput("refusal token \(first) outside the vocabulary") }
        return (best - logits[first], hidden)
    }

    public func complete(prompt: String, options: GenerationOptions, onToken: @escaping @Sendable (String) -> Bool) async throws -> CompletionResult {
        try await runOffPool { flag in
            let gen = try self.generator(named: options.model)
            let tokens = gen.textTokens(prompt, parseSpecial: options.parseSpecial)
            return try gen.generate(promptTokens: tokens, options: options) { !flag.isCancelled && onToken($0) }
        }
    }
}
