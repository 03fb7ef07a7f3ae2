import Foundation
import Hummingbird
import RAG
import Tokenizers

/// OpenAI's routes: chat completions (retrieval-augmented unless `"rag": false`), completions,
/// embeddings and the model list.
struct OpenAIController {
    let state: ServerState

    func addRoutes(to router: Router<ServerContext>) {
        router.post("/v1/chat/completions", use: chat)
        router.post("/v1/completions", use: complete)
        router.post("/v1/embeddings", use: embed)
        router.get("/v1/models", use: models)
        router.get("/v1/models/{id}", use: model)
    }

    // MARK: chat

    @Sendable func chat(_ request: Request, context: ServerContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(ChatCompletionRequest.self, context: context)
        let service = try await state.service()
        let model = try ModelResolver.generation(body.model, service.models)
        let answerRequest = try makeAnswerRequest(body, model: model)
        let id = Identifiers.make("chatcmpl"), created = Identifiers.now
        let ticket = state.gate.ticket(for: context.channel)
        let metrics = state.metrics, start = Date()

        guard body.stream == true else {
            let result = try await state.gate.run(ticket) { flag in
                try await service.answer(answerRequest) { _ in !flag.isSet }
            }
            metrics.recordGeneration(result.usage)
            return JSONCoding.response(ChatCompletion(
                id: id, created: created, model: model,
                choices: [.init(message: .init(content: result.answer), finishReason: result.finishReason.openAI)],
                usage: UsageBody(result.usage), sources: result.sources, timings: result.timings))
        }

        let slot = try await state.gate.acquire(ticket)
        let includeUsage = body.streamOptions?.includeUsage == true
        @Sendable func chunk(_ delta: ChatCompletionChunk.Delta, finish: String? = nil) -> ChatCompletionChunk {
            ChatCompletionChunk(id: id, created: created, model: model, choices: [.init(delta: delta, finishReason: Explicit(finish))])
        }
        let format = EventStream<AnswerResult>.Format(
            opening: { [JSONCoding.encode(chunk(.init(role: "assistant", content: "")))] },
            token: { JSONCoding.encode(chunk(.init(content: $0))) },
            closing: { result in
                metrics.recordGeneration(result.usage)
                var last = chunk(.init(), finish: result.finishReason.openAI)
                last.sources = result.sources
                last.timings = result.timings
                var usage = ChatCompletionChunk(id: id, created: created, model: model, choices: [])
                usage.usage = UsageBody(result.usage)
                return Self.closingEvents(last, usage: includeUsage ? usage : nil)
            },
            failure: { JSONCoding.encode($0.body) })
        return EventStream(ticket: ticket, slot: slot, format: format,
                           onFirstToken: { metrics.recordTimeToFirstToken(Date().timeIntervalSince(start)) },
                           produce: { onToken in try await service.answer(answerRequest, onToken: onToken) }).response()
    }

    func makeAnswerRequest(_ body: ChatCompletionRequest, model: String) throws -> AnswerRequest {
        guard !body.messages.isEmpty else { throw invalidField("messages", "must contain at least one message") }
        guard body.messages.count <= state.config.maxMessages else {
            throw invalidField("messages", "at most \(state.config.maxMessages) messages are accepted")
        }
        if let n = body.n, n != 1 { throw invalidField("n", "only n = 1 is supported") }
        let turns = try body.messages.enumerated().map { i, m -> ChatMessage in
            let role = m.role == "developer" ? "system" : m.role
            guard ["system", "user", "assistant"].contains(role) else {
                throw invalidField("messages[\(i)].role", "must be system, user or assistant (got '\(m.role)')")
            }
            return ChatMessage(role: role, content: m.content?.text ?? "")
        }
        let rag = body.rag
        let useRetrieval = rag?.enabled ?? true
        if useRetrieval {
            guard let question = turns.last(where: { $0.role == "user" }), !question.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw invalidField("messages", "retrieval needs a non-empty user message (or send \"rag\": false)")
            }
        }
        let search = try RetrievalController.searchOptions(k: rag?.k, mode: rag?.mode, filter: rag?.filter, defaultK: 5,
                                                           use: .answer, field: "rag.k")
        return AnswerRequest(messages: turns, search: search,
                             generation: try body.sampling.options(maxTokensCap: state.config.maxTokens, model: model),
                             useRetrieval: useRetrieval, checkCitations: rag?.checkCitations ?? true)
    }

    // MARK: completions

    @Sendable func complete(_ request: Request, context: ServerContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(CompletionRequest.self, context: context)
        let service = try await state.service()
        let model = try ModelResolver.generation(body.model, service.models)
        let prompts = body.prompt.values
        guard !prompts.isEmpty else { throw invalidField("prompt", "must not be an empty array") }
        guard prompts.count <= 16 else { throw invalidField("prompt", "at most 16 prompts per request") }
        if let n = body.n, n != 1 { throw invalidField("n", "only n = 1 is supported") }
        var sampling = try body.sampling.options(maxTokensCap: state.config.maxTokens, model: model)
        sampling.parseSpecial = body.parseSpecial ?? false
        let options = sampling
        let id = Identifiers.make("cmpl"), created = Identifiers.now
        let ticket = state.gate.ticket(for: context.channel)
        let metrics = state.metrics, start = Date()

        guard body.stream == true else {
            let results = try await state.gate.run(ticket) { flag in
                var results: [CompletionResult] = []
                for prompt in prompts {
                    results.append(try await service.complete(prompt: prompt, options: options) { _ in !flag.isSet })
                }
                return results
            }
            let usage = results.reduce(Usage(promptTokens: 0, completionTokens: 0)) {
                Usage(promptTokens: $0.promptTokens + $1.usage.promptTokens, completionTokens: $0.completionTokens + $1.usage.completionTokens)
            }
            metrics.recordGeneration(usage)
            let choices = results.enumerated().map { TextCompletion.Choice(text: $1.text, index: $0, finishReason: Explicit($1.finishReason.openAI)) }
            return JSONCoding.response(TextCompletion(id: id, created: created, model: model, choices: choices,
                                                      usage: UsageBody(usage), timings: results.last?.timings))
        }

        guard prompts.count == 1 else { throw invalidField("prompt", "streaming takes a single prompt") }
        let slot = try await state.gate.acquire(ticket)
        let includeUsage = body.streamOptions?.includeUsage == true
        @Sendable func chunk(_ text: String, finish: String? = nil) -> TextCompletion {
            TextCompletion(id: id, created: created, model: model, choices: [.init(text: text, index: 0, finishReason: Explicit(finish))])
        }
        let format = EventStream<CompletionResult>.Format(
            opening: { [] },
            token: { JSONCoding.encode(chunk($0)) },
            closing: { result in
                metrics.recordGeneration(result.usage)
                var last = chunk("", finish: result.finishReason.openAI)
                last.timings = result.timings
                var usage = TextCompletion(id: id, created: created, model: model, choices: [])
                usage.usage = UsageBody(result.usage)
                return Self.closingEvents(last, usage: includeUsage ? usage : nil)
            },
            failure: { JSONCoding.encode($0.body) })
        let prompt = prompts[0]
        return EventStream(ticket: ticket, slot: slot, format: format,
                           onFirstToken: { metrics.recordTimeToFirstToken(Date().timeIntervalSince(start)) },
                           produce: { onToken in try await service.complete(prompt: prompt, options: options, onToken: onToken) }).response()
    }

    /// The finishing chunk, then (when the client asked for it) the chunk with usage and no choices.
    static func closingEvents<Chunk: Encodable>(_ last: Chunk, usage: Chunk?) -> [Data] {
        [JSONCoding.encode(last)] + (usage.map { [JSONCoding.encode($0)] } ?? [])
    }

    // MARK: embeddings

    @Sendable func embed(_ request: Request, context: ServerContext) async throws -> Response {
        var request = request
        let body = try await request.decodeJSON(EmbeddingRequest.self, context: context)
        let service = try await state.service()
        let model = try ModelResolver.embedding(body.model, service.models)
        let texts = body.input.values
        guard !texts.isEmpty else { throw invalidField("input", "must not be empty") }
        guard texts.count <= 2048 else { throw invalidField("input", "at most 2048 inputs per request") }
        if let i = texts.firstIndex(where: { $0.isEmpty }) { throw invalidField("input[\(i)]", "must not be an empty string") }
        let format = body.encodingFormat ?? "float"
        guard format == "float" || format == "base64" else { throw invalidField("encoding_format", "must be float or base64") }
        let vectors = try await service.embed(texts)
        guard vectors.count == texts.count else {
            throw APIError.internalError("The embedder returned \(vectors.count) vectors for \(texts.count) inputs.")
        }
        let items = vectors.enumerated().map { i, v in
            EmbeddingList.Item(index: i, embedding: format == "base64" ? .base64(EmbeddingList.base64(v)) : .float(v))
        }
        let tokens = texts.reduce(0) { $0 + service.countGeneratorTokens($1) }
        return JSONCoding.response(EmbeddingList(data: items, model: model, usage: UsageBody(prompt: tokens)))
    }

    // MARK: models

    @Sendable func models(_ request: Request, context: ServerContext) async throws -> Response {
        JSONCoding.response(ModelList(data: try await modelList()))
    }

    @Sendable func model(_ request: Request, context: ServerContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let m = try await modelList().first(where: { $0.id == id }) else { throw APIError.modelNotFound(id) }
        return JSONCoding.response(m)
    }

    func modelList() async throws -> [ModelList.Model] {
        let info = try await state.service().models
        let created = Identifiers.now
        return [ModelList.Model(id: info.generator, created: created, kind: "generator", contextLength: info.contextLength)]
            + info.adapters.map { ModelList.Model(id: $0, created: created, kind: "adapter", contextLength: info.contextLength) }
            + [ModelList.Model(id: info.embedder, created: created, kind: "embedder", dimension: info.embeddingDimension)]
    }
}
