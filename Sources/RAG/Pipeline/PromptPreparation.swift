import Foundation

/// What `answer` sends the generator for a request, decided without generating: the chat messages
/// (the template's system part, any history, the user turn with the numbered passages) and the
/// passages that fitted. `rag ask --prompt-only` prints it; training data are built from it, so a
/// model is tuned on exactly the prompts it will be asked.
public struct PreparedPrompt: Sendable, Codable {
    public var question: String
    public var messages: [ChatTurn]
    public var passages: [Passage]
    /// True when retrieval found nothing relevant enough: `answer` replies with `RAGPipeline.refusal`
    /// and the generator is never asked (messages and passages are then empty).
    public var refused: Bool
    /// The messages rendered by the generator's chat template: the text the model reads.
    public var prompt: String
}

extension RAGPipeline {
    /// The prompt `answer` would generate from, for the same request.
    public func preparePrompt(_ request: AnswerRequest) throws -> PreparedPrompt {
        let gen = try generator(named: request.generation.model)
        var timings = Timings()
        return try prepare(request, generator: gen, timings: &timings)
    }

    /// Retrieves for the last user turn, refuses below `minRelevance`, fits the numbered passages
    /// into the context left after the history and the answer's tokens, and renders the template.
    func prepare(_ request: AnswerRequest, generator gen: any TextGenerator, timings: inout Timings) throws -> PreparedPrompt {
        guard let question = request.messages.last(where: { $0.role == "user" })?.content,
              !question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RAGError.invalidInput("messages: no user message with a question")
        }
        var messages = request.messages
        var passages: [Passage] = []
        if request.useRetrieval {
            let t0 = Date()
            let retrieved = try retrieve(question, options: request.search)
            timings.retrieveMs = Date().timeIntervalSince(t0) * 1000
            let best = retrieved.map(\.similarity).max() ?? 0
            if retrieved.isEmpty || best < configuration.minRelevance {
                return PreparedPrompt(question: question, messages: [], passages: [], refused: true, prompt: "")
            }
            let numbered = retrieved.enumerated().map { i, r in
                Passage(n: i + 1, file: r.chunk.path, page: r.chunk.page, section: r.chunk.section, score: r.score,
                        text: r.chunk.text, chunkID: r.chunk.id)
            }
            // Fit passages into what the context leaves after the history and the answer's tokens.
            let history = messages.dropLast().map { gen.countTokens($0.content) + 4 }.reduce(0, +)
            let budget = min(configuration.contextBudget, gen.contextLength) - request.generation.maxTokens - history - 16
            guard let kept = template.fit(passages: numbered, question: question, budget: budget, countTokens: gen.countTokens) else {
                throw RAGError.invalidInput("the question is too long for the model's context (\(gen.contextLength) tokens)")
            }
            passages = kept
            if let last = messages.lastIndex(where: { $0.role == "user" }) {
                messages[last].content = template.userMessage(passages: kept, question: question)
            }
            messages.removeAll { $0.role == "system" }
            messages.insert(ChatTurn(role: "system", content: template.system), at: 0)
        }
        return PreparedPrompt(question: question, messages: messages, passages: passages, refused: false,
                              prompt: try gen.renderChat(messages))
    }
}
