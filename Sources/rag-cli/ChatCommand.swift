import ArgumentParser
import Foundation
import RAG
import Tokenizers

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "A conversation about the knowledge base: earlier turns stay in the prompt, and a follow-up question is retrieved with the questions before it. /reset clears, /exit ends.")

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions
    @OptionGroup var answering: AnsweringOptions

    @Option(name: .long, help: "How many passages to retrieve per question.")
    var k: Int = 5

    @Option(name: .long, help: "How many earlier turns to keep.")
    var history: Int = 6

    func validate() throws {
        try validateK(k, for: .answer)
    }

    func run() async throws {
        var c = try base.existing()
        generator.apply(to: &c)
        let pipeline = try RAGPipeline.open(c)
        var turns: [ChatMessage] = []
        let interactive = Console.stdoutIsTTY
        while true {
            if interactive { Console.stream("\n> ") }
            guard let line = readLine() else { break }
            let q = line.trimmingCharacters(in: .whitespaces)
            if q.isEmpty { continue }
            if q == "/exit" || q == "/quit" { break }
            if q == "/reset" { turns.removeAll(); Console.out("(conversation cleared)"); continue }
            let interrupt = Interrupt.install()
            let request = AnswerRequest(messages: Array(turns.suffix(history * 2)) + [ChatMessage(role: "user", content: q)],
                                        search: SearchOptions(k: k), generation: generator.generation,
                                        checkCitations: !answering.noCitationCheck,
                                        calibratedRefusal: !answering.noRefusalCalibration)
            let result = try await pipeline.answer(request) { piece in
                Console.stream(piece)
                return !interrupt.fired
            }
            Console.out("")
            printSources(result)
            turns.append(ChatMessage(role: "user", content: q))
            turns.append(ChatMessage(role: "assistant", content: result.answer))
        }
    }
}
