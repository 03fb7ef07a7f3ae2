import Foundation

/// What the front ends ask of the pipeline. `rag-cli` and `rag-server` hold one of these and only
/// parse, call and print; everything that decides lives behind it.
///
/// Generation is CPU-bound and runs off the cooperative pool; `onToken` receives each decoded text
/// piece as soon as it is complete UTF-8 and returns false to stop early (a client went away, the
/// user pressed Ctrl-C). Cancelling the calling task stops generation too.
public protocol RAGService: Sendable {
    var models: ModelInfo { get }

    /// Retrieval only.
    func search(_ query: String, options: SearchOptions) async throws -> [SearchHit]

    /// Retrieval-augmented answer (or plain chat when `request.useRetrieval` is false).
    func answer(_ request: AnswerRequest, onToken: @escaping @Sendable (String) -> Bool) async throws -> AnswerResult

    /// Plain text completion of `prompt` (no retrieval, no chat template).
    func complete(prompt: String, options: GenerationOptions, onToken: @escaping @Sendable (String) -> Bool) async throws -> CompletionResult

    /// Normalised embeddings of each text.
    func embed(_ texts: [String]) async throws -> [[Float]]

    /// Tokens the generator's tokenizer makes of `text` (for usage counts and limits).
    func countGeneratorTokens(_ text: String) -> Int

    func documents(offset: Int, limit: Int) async throws -> (total: Int, items: [DocumentInfo])

    /// Stores `data` as a file named (after sanitising) `fileName` in the base's own upload folder
    /// and ingests it. The name never escapes that folder.
    func addDocument(fileName: String, data: Data) async throws -> DocumentInfo

    /// Removes a document and everything derived from it; false when there was no such document.
    func deleteDocument(id: Int64) async throws -> Bool

    /// Re-syncs the configured folder: adds new files, re-indexes changed ones, forgets deleted ones.
    func sync(progress: @escaping @Sendable (IngestProgress) -> Void) async throws -> IngestReport

    func stats() async throws -> StoreStats

    /// Document `id`'s original file (nil when there is no such document); DocumentFile.swift.
    func documentFile(id: Int64) async throws -> DocumentFile?

    /// Keeps a background job's record (JSON) where every server on the same base can read it.
    func saveJob(id: String, record: Data) async throws
    /// A job's record kept by `saveJob`, from whichever server; nil when there is none.
    func job(id: String) async throws -> Data?
}

extension RAGService {
    /// A service without a shared base keeps no job records: the server answers for its own jobs.
    public func saveJob(id: String, record: Data) async throws {}
    public func job(id: String) async throws -> Data? { nil }
}
