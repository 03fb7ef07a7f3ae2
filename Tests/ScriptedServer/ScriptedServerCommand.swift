import ArgumentParser
import Foundation
import Logging
import RAGServer
import RAGServerCLI
import ServerTestSupport

/// Test-only: `rag-server` with the deterministic ScriptedService in place of the pipeline, so the
/// OpenAI compatibility script, the web-page screenshot and the benchmark scripts can run before
/// the pipeline lands. Same flags as rag-server (--db/--model/--embedder are accepted and ignored).
@main
struct ScriptedServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag-server-scripted",
        abstract: "TEST ONLY: rag-server over a scripted, in-memory RAGService.")

    @OptionGroup var options: ServerOptions
    @Option(name: .customLong("token-delay-ms"), help: "Delay per generated token.") var tokenDelayMs = 20
    @Option(name: .customLong("load-delay-ms"), help: "Simulated model loading time.") var loadDelayMs = 300
    @Option(name: .customLong("answer-words"), help: "Tokens per answer.") var answerWords = 24

    func run() async throws {
        let config = try options.resolve(environment: ProcessInfo.processInfo.environment)
        config.bootstrapLogging()
        var script = ScriptedService.Script()
        script.tokenDelay = .milliseconds(tokenDelayMs)
        script.answerWords = answerWords
        let loadDelay = loadDelayMs, fixedScript = script
        let server = RAGHTTPServer(config: config, logger: Logger(label: "rag-server-scripted")) {
            try await Task.sleep(for: .milliseconds(loadDelay))
            let service = ScriptedService(script: fixedScript)
            await service.seed()
            return service
        }
        try await server.run()
    }
}
