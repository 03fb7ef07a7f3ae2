import ArgumentParser
import Foundation
import Generator
import RAG

/// Options every command that opens a knowledge base shares.
struct BaseOptions: ParsableArguments {
    @Option(name: .long, help: "The knowledge base: a SQLite file, or postgres://user@host:port/dbname. Env RAG_DB.")
    var db: String = ProcessInfo.processInfo.environment["RAG_DB"] ?? "rag.db"

    @Option(name: .long, help: "Embedder folder (Hugging Face layout; default: all-MiniLM-L6-v2 in the models folder).")
    var embedder: String?

    /// The configuration of a base that must already exist (every command but `ingest` and `serve`).
    func existing() throws -> RAGPipeline.Configuration {
        let c = try configuration()
        try c.store.requireExisting()
        return c
    }

    func configuration() throws -> RAGPipeline.Configuration {
        var c = RAGPipeline.Configuration(store: try StoreLocation(db))
        c.embedderPath = embedder ?? ProcessInfo.processInfo.environment["RAG_EMBEDDER"]
        return c
    }
}

/// Options of commands that generate text.
struct GeneratorOptions: ParsableArguments {
    @Option(name: .long, help: "Generator: a GGUF file or Hugging Face folder (default: SmolLM2-135M-Instruct Q4_1).")
    var model: String?

    @Option(name: .long, help: "LoRA adapter folder for the generator (PEFT layout: adapter_config.json + adapter_model.safetensors). Env RAG_ADAPTER.")
    var adapter: String?

    @Flag(name: .long, help: "Run the default model without its default adapter (SmolLM2-135M-Instruct-rag), to compare.")
    var noAdapter = false

    @Option(name: .long, help: "Refuse when the best passage's cosine similarity to the question is below this (scripts/calibrate-refusal.sh).")
    var minRelevance: Double = 0.3

    @Option(name: .long, help: "Prompt template file ([system] and [user] sections with {{passages}} and {{question}}).")
    var template: String?

    @Option(name: .long, help: "Most tokens to generate.")
    var maxTokens: Int = 256

    @Option(name: .long, help: "Sampling temperature (0 = greedy).")
    var temperature: Float = SamplingOptions.answering.temperature

    @Option(name: .long, help: "Top-k sampling (0 = off).")
    var topK: Int = SamplingOptions.answering.topK

    @Option(name: .long, help: "Top-p (nucleus) sampling.")
    var topP: Float = SamplingOptions.answering.topP

    @Option(name: .long, help: "Min-p sampling.")
    var minP: Float = SamplingOptions.answering.minP

    @Option(name: .long, help: "Repetition penalty over the last 64 tokens (1 = off, the default: grounded answers repeat the passages' words).")
    var repeatPenalty: Float = SamplingOptions.answering.repetitionPenalty

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64?

    @Option(name: .long, help: "Stop when this text is generated (repeatable).")
    var stop: [String] = []

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive") }
        if noAdapter, adapter != nil { throw ValidationError("--no-adapter and --adapter exclude each other") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be ≥ 0") }
        guard topP > 0, topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minRelevance >= -1, minRelevance <= 1 else { throw ValidationError("--min-relevance must be a cosine in [-1, 1]") }
    }

    var generation: GenerationOptions {
        GenerationOptions(sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                                    repetitionPenalty: repeatPenalty, seed: seed, maxTokens: maxTokens, stop: stop))
    }

    /// The adapter given by flag or RAG_ADAPTER (the default adapter is the pipeline's choice, not this).
    var adapterPath: String? {
        if noAdapter { return nil }
        return adapter ?? ProcessInfo.processInfo.environment["RAG_ADAPTER"].flatMap { $0.isEmpty || $0 == "none" ? nil : $0 }
    }

    /// `--no-adapter`, or RAG_ADAPTER=none.
    var wantsNoAdapter: Bool { noAdapter || (adapter == nil && ProcessInfo.processInfo.environment["RAG_ADAPTER"] == "none") }

    func apply(to c: inout RAGPipeline.Configuration) {
        c.generatorPath = model ?? ProcessInfo.processInfo.environment["RAG_MODEL"]
        c.adapterPath = adapterPath
        c.useDefaultAdapter = !wantsNoAdapter
        c.minRelevance = minRelevance
        c.templatePath = template
    }
}

/// Options of the commands that answer from passages (`ask`, `chat`, `eval answers`).
struct AnsweringOptions: ParsableArguments {
    @Flag(name: .long, help: "Show the model's citations as generated (by default each is checked against the passages and renumbered to the one that supports its sentence best, and an answer citing nothing gets the one that supports it best).")
    var noCitationCheck = false

    @Flag(name: .long, help: "Ignore the adapter's refusal calibration (answering.json: a bias towards its \"I don't know\" sentence, see rag eval refusal).")
    var noRefusalCalibration = false
}

/// How `search` and `ask` retrieve: how many hits, by which ranking, from which documents.
struct RetrievalOptions: ParsableArguments {
    @Option(name: .long, help: "How many hits (search: default 10, at most 1000) or passages (ask: default 5, at most 50).")
    var k: Int?

    @Option(name: .long, help: "vector, lexical or hybrid.")
    var mode: RetrievalMode = .hybrid

    @Option(name: .long, help: "Only documents whose path matches this glob.")
    var filter: String?

    /// The search options for `use`, whose rule bounds `k` and whose default fills it.
    func search(for use: RetrievalUse) throws -> SearchOptions {
        let options = SearchOptions(k: k ?? (use == .search ? 10 : 5), mode: mode, pathGlob: filter)
        try validateK(options.k, for: use)
        return options
    }
}

/// `--k` checked against RAG's rule for what the retrieval is for.
func validateK(_ k: Int, for use: RetrievalUse) throws {
    if let problem = SearchOptions(k: k).kProblem(for: use) { throw ValidationError("--k \(problem)") }
}

extension RetrievalMode: ExpressibleByArgument {}
