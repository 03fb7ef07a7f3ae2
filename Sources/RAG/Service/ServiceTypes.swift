import Foundation
import Generator
import Tokenizers

// The vocabulary the front ends (rag-cli, rag-server) speak with the pipeline. Field names in
// CodingKeys follow the project's JSON (`rag search --json`, `rag ask --json`, /v1/retrieve).

/// How to rank chunks: by embedding similarity, by BM25, or both fused by reciprocal rank fusion.
public enum RetrievalMode: String, Sendable, Codable, CaseIterable {
    case vector, lexical, hybrid
}

public struct SearchOptions: Sendable, Equatable {
    public var k: Int
    public var mode: RetrievalMode
    /// Restrict to documents whose path (relative to the ingested root) matches this glob.
    public var pathGlob: String?
    public init(k: Int = 10, mode: RetrievalMode = .hybrid, pathGlob: String? = nil) {
        self.k = k; self.mode = mode; self.pathGlob = pathGlob
    }
}

/// One retrieved chunk, as `rag search --json` prints it.
public struct SearchHit: Sendable, Codable, Equatable {
    public var file: String
    public var page: Int?
    public var section: String?
    public var score: Double
    public var text: String
    public var chunkID: Int64

    public init(file: String, page: Int?, section: String?, score: Double, text: String, chunkID: Int64) {
        self.file = file; self.page = page; self.section = section
        self.score = score; self.text = text; self.chunkID = chunkID
    }

    enum CodingKeys: String, CodingKey {
        case file, page, section, score, text
        case chunkID = "chunk_id"
    }
}

/// What a request asks of the generator: how tokens are chosen and when generation ends (the
/// decoder's own `SamplingOptions`, `.answering` unless the request says otherwise), which model
/// answers, and whether a raw prompt's control tokens are parsed.
public struct GenerationOptions: Sendable, Equatable {
    public var sampling: SamplingOptions
    /// Which model generates: the generator's name or an adapter's (`ModelInfo`); nil = the default.
    public var model: String?
    /// Raw completion only: control tokens written in the prompt (`<|im_start|>` …) become control
    /// ids. Off by default, so a prompt is text; chat never parses them (its text is always text).
    public var parseSpecial = false

    public init(sampling: SamplingOptions = .answering, model: String? = nil) {
        self.sampling = sampling; self.model = model
    }

    /// The answering defaults with at most `maxTokens` tokens, ending at any of `stop`.
    public init(maxTokens: Int, stop: [String] = []) {
        var sampling = SamplingOptions.answering
        sampling.maxTokens = maxTokens
        sampling.stop = stop
        self.init(sampling: sampling)
    }
}

/// A question for the answering pipeline: the conversation so far, whose last user turn is the
/// question that retrieval uses. With `useRetrieval` false it is plain chat.
public struct AnswerRequest: Sendable {
    public var messages: [ChatMessage]
    public var search: SearchOptions
    public var generation: GenerationOptions
    public var useRetrieval: Bool
    /// Check each citation against the passages and renumber it to the one that supports its
    /// sentence best, and give an answer that cites nothing the passage that supports it best
    /// (`CitationCheck`); false shows the model's citations as generated.
    public var checkCitations: Bool
    /// Apply the adapter's refusal calibration (`RefusalCalibration`) when it has one; false
    /// generates from the model's own logits.
    public var calibratedRefusal: Bool
    public init(messages: [ChatMessage], search: SearchOptions = SearchOptions(k: 5),
                generation: GenerationOptions = GenerationOptions(), useRetrieval: Bool = true, checkCitations: Bool = true,
                calibratedRefusal: Bool = true) {
        self.messages = messages; self.search = search; self.generation = generation; self.useRetrieval = useRetrieval
        self.checkCitations = checkCitations; self.calibratedRefusal = calibratedRefusal
    }
    public init(question: String, search: SearchOptions = SearchOptions(k: 5), generation: GenerationOptions = GenerationOptions(),
                checkCitations: Bool = true, calibratedRefusal: Bool = true) {
        self.init(messages: [ChatMessage(role: "user", content: question)], search: search, generation: generation,
                  checkCitations: checkCitations, calibratedRefusal: calibratedRefusal)
    }
}

public struct Usage: Sendable, Codable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    public init(promptTokens: Int, completionTokens: Int) { self.promptTokens = promptTokens; self.completionTokens = completionTokens }
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
    }
}

public struct Timings: Sendable, Codable, Equatable {
    public var retrieveMs: Double
    public var prefillTokensPerS: Double
    public var decodeTokensPerS: Double
    public init(retrieveMs: Double = 0, prefillTokensPerS: Double = 0, decodeTokensPerS: Double = 0) {
        self.retrieveMs = retrieveMs; self.prefillTokensPerS = prefillTokensPerS; self.decodeTokensPerS = decodeTokensPerS
    }
    enum CodingKeys: String, CodingKey {
        case retrieveMs = "retrieve_ms", prefillTokensPerS = "prefill_tokens_per_s", decodeTokensPerS = "decode_tokens_per_s"
    }
}

/// Why generation ended: a stop string or end-of-turn token, the token limit, or the caller's cancel.
public enum FinishReason: String, Sendable, Codable {
    case stop, length, cancelled
}

public struct AnswerResult: Sendable {
    public var answer: String
    /// The passages the answer cites, in citation order (numbered as in the prompt); when the
    /// answer cites none (small models often don't), every passage the prompt gave it.
    public var sources: [Passage]
    /// Whether `sources` are the answer's own citations (false: the answer cited nothing).
    public var cited: Bool
    /// Every passage that went into the prompt.
    public var passages: [Passage]
    /// True when retrieval found nothing relevant and the pipeline said so instead of generating.
    public var refused: Bool
    /// Citation markers the citation check renumbered (0 when it was off).
    public var citationsRenumbered: Int
    /// The answer cited nothing and the citation check appended the passage that supports it best.
    public var citationAdded: Bool
    public var usage: Usage
    public var timings: Timings
    public var finishReason: FinishReason
    public init(answer: String, sources: [Passage], cited: Bool = true, passages: [Passage], refused: Bool,
                citationsRenumbered: Int = 0, citationAdded: Bool = false, usage: Usage, timings: Timings, finishReason: FinishReason) {
        self.answer = answer; self.sources = sources; self.cited = cited; self.passages = passages; self.refused = refused
        self.citationsRenumbered = citationsRenumbered; self.citationAdded = citationAdded; self.usage = usage; self.timings = timings; self.finishReason = finishReason
    }
}

/// Plain generation (no retrieval, no chat template unless asked).
public struct CompletionResult: Sendable {
    public var text: String
    public var tokenIDs: [Int]
    public var usage: Usage
    public var timings: Timings
    public var finishReason: FinishReason
    public init(text: String, tokenIDs: [Int], usage: Usage, timings: Timings, finishReason: FinishReason) {
        self.text = text; self.tokenIDs = tokenIDs; self.usage = usage; self.timings = timings; self.finishReason = finishReason
    }
}

public struct DocumentInfo: Sendable, Codable, Equatable {
    public var id: Int64
    public var path: String         // relative to the ingested root
    public var bytes: Int64
    public var chunks: Int
    public var pages: Int?
    public var contentHash: String
    public var ingestedAt: Date
    public init(id: Int64, path: String, bytes: Int64, chunks: Int, pages: Int?, contentHash: String, ingestedAt: Date) {
        self.id = id; self.path = path; self.bytes = bytes; self.chunks = chunks; self.pages = pages
        self.contentHash = contentHash; self.ingestedAt = ingestedAt
    }
    enum CodingKeys: String, CodingKey {
        case id, path, bytes, chunks, pages
        case contentHash = "content_hash", ingestedAt = "ingested_at"
    }
}

/// Progress of a folder sync, reported after each file.
public struct IngestProgress: Sendable, Equatable {
    public var filesDone: Int
    public var filesTotal: Int
    public var chunksAdded: Int
    public var bytesDone: Int64
    public var bytesTotal: Int64
    public var currentFile: String?
    public init(filesDone: Int, filesTotal: Int, chunksAdded: Int, bytesDone: Int64, bytesTotal: Int64, currentFile: String?) {
        self.filesDone = filesDone; self.filesTotal = filesTotal; self.chunksAdded = chunksAdded
        self.bytesDone = bytesDone; self.bytesTotal = bytesTotal; self.currentFile = currentFile
    }
}

public struct IngestFailure: Sendable, Codable, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
}

/// What a sync did: files added, changed (re-indexed), removed, unchanged, skipped (unknown
/// extension, counted by reason) and failed (each with its path and reason).
public struct IngestReport: Sendable, Codable, Equatable {
    public var added = 0, changed = 0, removed = 0, unchanged = 0
    public var skipped: [String: Int] = [:]
    /// The links, link loops and special files among `skipped`, each by path.
    public var skippedFiles: [IngestFailure] = []
    public var failed: [IngestFailure] = []
    public var chunks = 0
    public var seconds = 0.0
    public init() {}
}

public struct StoreStats: Sendable, Codable, Equatable {
    public var documents: Int
    public var chunks: Int
    public var vectors: Int
    public var fileBytes: Int64
    public var embedder: String
    public var dimension: Int
    public init(documents: Int, chunks: Int, vectors: Int, fileBytes: Int64, embedder: String, dimension: Int) {
        self.documents = documents; self.chunks = chunks; self.vectors = vectors
        self.fileBytes = fileBytes; self.embedder = embedder; self.dimension = dimension
    }
}

/// The models a service runs, as /v1/models lists them.
public struct ModelInfo: Sendable, Equatable {
    public var generator: String
    public var embedder: String
    public var adapters: [String]
    public var contextLength: Int
    public var embeddingDimension: Int
    public init(generator: String, embedder: String, adapters: [String], contextLength: Int, embeddingDimension: Int) {
        self.generator = generator; self.embedder = embedder; self.adapters = adapters
        self.contextLength = contextLength; self.embeddingDimension = embeddingDimension
    }

    /// What generates when a request names no model: the adapter when one is configured (that is
    /// why it was given), else the generator itself.
    public var defaultGenerationModel: String { adapters.first ?? generator }
}
