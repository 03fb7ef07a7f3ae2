import ArgumentParser
import Foundation
import RAG
import Tokenizers

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Plain generation from a prompt, without retrieval.")

    @Argument(help: "The prompt.")
    var prompt: String

    @OptionGroup var generator: GeneratorOptions

    @Flag(name: .long, help: "Wrap the prompt as one user message in the model's chat template.")
    var chat = false

    @Flag(name: .long, help: "Raw prompts only: control tokens written in the prompt (<|im_start|> …) become control tokens; without it the prompt is text.")
    var parseSpecial = false

    @Flag(name: .long, help: "Print {text, token_ids, prompt_tokens, timings} as JSON.")
    var json = false

    struct Output: Encodable {
        var text: String
        var tokenIDs: [Int]
        var promptTokens: Int
        var timings: Timings
        enum CodingKeys: String, CodingKey {
            case text, timings
            case tokenIDs = "token_ids", promptTokens = "prompt_tokens"
        }
    }

    func run() async throws {
        let base = try ModelFactory.generator(path: generator.model ?? ProcessInfo.processInfo.environment["RAG_MODEL"])
        let model = try generator.adapterPath.map { try base.adapted(by: URL(fileURLWithPath: $0, isDirectory: true)) } ?? base
        if chat && parseSpecial {
            throw ValidationError("--parse-special applies to raw prompts; with --chat the message is always text")
        }
        let tokens = chat ? try model.chatTokens([ChatMessage(role: "user", content: prompt)])
                          : model.textTokens(prompt, parseSpecial: parseSpecial)
        let interrupt = Interrupt.install()
        let result = try model.generate(promptTokens: tokens, options: generator.generation) { piece in
            if !json { Console.stream(piece) }
            return !interrupt.fired
        }
        if json {
            try Console.json(Output(text: result.text, tokenIDs: result.tokenIDs, promptTokens: result.usage.promptTokens, timings: result.timings))
        } else {
            Console.out(interrupt.fired ? "\n[stopped]" : "")
        }
        if interrupt.fired { throw ExitCode(130) }
    }
}
