import Foundation
import Tokenizers

/// What `answer` sends the generator for a request, decided without generating: the chat messages
/// (the template's system part, any history, the user turn with the numbered passages) and the
/// passages that fitted. `rag ask --prompt-only` prints it; training data are built from it, so a
/// model is tuned on exactly the prompts it will be asked.
public struct PreparedPrompt: Sendable, Codable {
    public var question: String
    public var messages: [ChatMessage]
    public var passages: [Passage]
    /// True when retrieval found nothing relevant enough: `answer` replies with `RAGPipeline.refusal`
    /// and the generator is never asked (messages and passages are then empty).
    public var refused: Bool
    /// The messages encoded by the generator's chat template: the ids the model reads.
    public var promptTokens: [Int]
}

extension RAGPipeline {
    /// The prompt `answer` would generate from, for the same request.
    public func preparePrompt(_ request: AnswerRequest) throws -> PreparedPrompt {
        _ = try checkedQuestion(request)
        let gen = try generator(named: request.generation.model)
        var timings = Timings()
        return try prepare(request, generator: gen, timings: &timings)
    }

    /// The request's question, once the request is known to be valid (a user turn with text, `k`
    /// within the answering rule): checked before any model is loaded.
    func checkedQuestion(_ request: AnswerRequest) throws -> String {
        guard let question = request.messages.last(where: { $0.role == "user" })?.content,
              !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RAGError.invalidInput("messages: no user message with a question")
        }
        if request.useRetrieval { try request.search.check(for: .answer) }
        return question
    }

    /// Keeps the conversation within the budget, retrieves for the last user turn (with the earlier
    /// questions, see FollowUpRetrieval), refuses below `minRelevance`, fits the numbered passages into
    /// the context left after the history and the answer's tokens, and encodes the template.
    func prepare(_ request: AnswerRequest, generator gen: any TextGenerator, timings: inout Timings) throws -> PreparedPrompt {
        let question = try checkedQuestion(request)
        var passages: [Passage] = []
        // The context left for the conversation once the answer's tokens are set aside; with
        // retrieval, earlier turns may use half of it and the passages the rest.
        let available = min(configuration.contextBudget, gen.contextLength) - request.generation.sampling.maxTokens - PromptBudget.reservedTokens
        var messages = ConversationWindow.fit(request.messages, budget: request.useRetrieval ? available / 2 : available,
                                              countTokens: gen.countTokens)

        if request.useRetrieval {
            let t0 = Date()
            let query = try configuration.followUpRetrieval.query(for: messages, generator: gen)
            let retrieved = try retrieve(query, options: request.search)
            timings.retrieveMs = Date().timeIntervalSince(t0) * 1000
            let best = retrieved.map(\.similarity).max() ?? 0
            if retrieved.isEmpty || best < configuration.minRelevance {
                return PreparedPrompt(question: question, messages: [], passages: [], refused: true, promptTokens: [])
            }
            let numbered = retrieved.enumerated().map { i, r in
                Passage(n: i + 1, file: r.chunk.path, page: r.chunk.page, section: r.chunk.section, score: r.score,
                        text: r.chunk.text, chunkID: r.chunk.id, documentID: r.chunk.documentID)
            }
            let system = template.system(keeping: messages.filter { $0.role == "system" }.map(\.content))
            messages.removeAll { $0.role == "system" }
            // Fit passages into what the context leaves after the history and the answer's tokens.
            let budget = PromptBudget.forPassages(contextBudget: configuration.contextBudget, contextLength: gen.contextLength,
                                                  maxTokens: request.generation.sampling.maxTokens,
                                                  history: messages.dropLast().map(\.content), countTokens: gen.countTokens)
                - (gen.countTokens(system) - gen.countTokens(template.system))  // a client's system prompt kept beside the template's
            guard let kept = template.fit(passages: numbered, question: question, budget: budget, countTokens: gen.countTokens) else {
                throw RAGError.invalidInput("the question is too long for the model's context (\(gen.contextLength) tokens)")
            }
            passages = kept
            if let last = messages.lastIndex(where: { $0.role == "user" }) {
                messages[last].content = template.userMessage(passages: kept, question: question)
            }
            messages.insert(ChatMessage(role: "system", content: system), at: 0)
        }

        return PreparedPrompt(question: question, messages: messages, passages: passages, refused: false,
                              promptTokens: try gen.chatTokens(messages))
    }
}
