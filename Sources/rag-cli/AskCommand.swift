import ArgumentParser
import Foundation
import RAG

struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ask", abstract: "Answer a question from the knowledge base, citing its sources.")

    @Argument(help: "The question (with --prompt-only, \"-\" reads one question a line from stdin).")
    var question: String

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions
    @OptionGroup var retrieval: RetrievalOptions
    @OptionGroup var answering: AnsweringOptions

    @Flag(name: .long, help: "Print the answer, sources, usage and timings as JSON.")
    var json = false

    @Flag(name: .long, help: "Print the answer when it is complete instead of streaming it.")
    var noStream = false

    @Flag(name: .long, help: "Print the messages the model would be sent (and, with --json, the passages) without generating.")
    var promptOnly = false

    func validate() throws { _ = try retrieval.search(for: .answer) }

    struct Output: Encodable {
        var answer: String
        var refused: Bool
        var cited: Bool
        var citationsRenumbered: Int
        var citationAdded: Bool
        var sources: [Passage]
        var usage: Usage
        var timings: Timings
        enum CodingKeys: String, CodingKey {
            case answer, refused, cited, sources, usage, timings
            case citationsRenumbered = "citations_renumbered"
            case citationAdded = "citation_added"
        }
    }

    func run() async throws {
        var c = try base.existing()
        generator.apply(to: &c)
        let pipeline = try RAGPipeline.open(c)
        if promptOnly { return try printPrompts(pipeline) }
        let interrupt = Interrupt.install()
        let streaming = !json && !noStream
        let request = AnswerRequest(question: question, search: try retrieval.search(for: .answer),
                                    generation: generator.generation, checkCitations: !answering.noCitationCheck,
                                    calibratedRefusal: !answering.noRefusalCalibration)
        let result = try await pipeline.answer(request) { piece in
            if streaming { Console.stream(piece) }
            return !interrupt.fired
        }
        if json {
            try Console.json(Output(answer: result.answer, refused: result.refused, cited: result.cited,
                                    citationsRenumbered: result.citationsRenumbered, citationAdded: result.citationAdded,
                                    sources: result.sources,
                                    usage: result.usage, timings: result.timings))
            return
        }
        if !streaming { Console.out(result.answer, terminator: "") }
        Console.out(result.finishReason == .cancelled || interrupt.fired ? "\n[stopped]" : "")
        printSources(result)
        if interrupt.fired { throw ExitCode(130) }
    }
}

extension AskCommand {
    /// `--prompt-only`: one prompt, or with the question "-" one JSON line per stdin line.
    func printPrompts(_ pipeline: RAGPipeline) throws {
        let search = try retrieval.search(for: .answer)
        let prepare = { (q: String) in try pipeline.preparePrompt(AnswerRequest(question: q, search: search, generation: generator.generation)) }
        guard question == "-" else {
            let p = try prepare(question)
            if json { return try Console.json(p) }
            if p.refused { return Console.out(RAGPipeline.refusal) }
            for m in p.messages { Console.out("[\(m.role)]\n\(m.content)\n") }
            return
        }
        while let line = readLine() {
            let q = line.trimmingCharacters(in: .whitespaces)
            if q.isEmpty { continue }
            try Console.json(prepare(q), compact: true)
        }
    }
}

/// The cited sources under an answer.
func printSources(_ result: AnswerResult) {
    if result.refused {
        // (the adapter declined after reading them; the pipeline's own refusals found none)
        if !result.passages.isEmpty { Console.out("\nClosest passages (none read as holding the answer):") }
        for p in result.passages { Console.out("  [\(p.n)] \(p.label)") }
        return
    }
    Console.out(!result.cited ? "\nSources (the answer cites none; these are the passages it was given):"
                : result.citationAdded ? "\nSources (the answer cited none; the citation check added the passage that supports it best):"
                : "\nSources:")
    for p in result.sources { Console.out("  [\(p.n)] \(p.label)") }
}
