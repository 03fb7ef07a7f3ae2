import ArgumentParser
import Foundation
import RAG

struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Measure retrieval or answers against a file of questions.",
        subcommands: [EvalRetrievalCommand.self, EvalAnswersCommand.self, EvalFollowUpsCommand.self, EvalRefusalCommand.self])
}

struct EvalRetrievalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval", abstract: "hit@1/5/10, MRR@10, nDCG@10 and recall@10 for vector, lexical and hybrid retrieval.")

    @OptionGroup var base: BaseOptions

    @Option(name: .long, help: "JSONL of {\"question\", \"relevant\": [paths], \"page\"?}.")
    var queries: String

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    struct Row: Encodable { var mode: String; var scores: RetrievalScores }

    func run() async throws {
        let qs = try EvalQuery.load(URL(fileURLWithPath: queries))
        let pipeline = try RAGPipeline.open(base.existing())
        let rows = try RetrievalEvaluation.run(pipeline, queries: qs)
        if json { try Console.json(rows.map { Row(mode: $0.mode.rawValue, scores: $0.scores) }); return }
        let n = qs.filter(\.isAnswerable).count
        Console.out("retrieval on \(n) answerable questions from \(queries) (\(pipeline.embedder.identity.name))\n")
        Console.out("mode       hit@1   hit@5   hit@10  MRR@10  nDCG@10 recall@10")
        for r in rows {
            let s = r.scores
            let cells = [s.hitAt1, s.hitAt5, s.hitAt10, s.mrrAt10, s.ndcgAt10, s.recallAt10].map { String(format: "%.3f", $0) }
            Console.out(r.mode.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + cells.joined(separator: "   "))
        }
    }
}

struct EvalAnswersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answers", abstract: "Token F1, exact match, citation and refusal accuracy, and latency of `rag ask`.")

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions
    @OptionGroup var answering: AnsweringOptions

    @Option(name: .long, help: "JSONL of {\"question\", \"answer\", \"relevant\", \"answerable\"}.")
    var queries: String

    @Option(name: .long, help: "Passages per question, as `rag ask --k`.")
    var k: Int = 5

    @Option(name: .long, help: "Only the first N questions.")
    var limit: Int?

    @Flag(name: .long, help: "Print JSON (summary and every answer).")
    var json = false

    func validate() throws { try validateK(k, for: .answer) }

    struct Output: Encodable { var summary: AnswerEvalSummary; var records: [AnswerEvalRecord] }

    func run() async throws {
        var qs = try EvalQuery.load(URL(fileURLWithPath: queries))
        if let limit { qs = Array(qs.prefix(limit)) }
        var c = try base.existing()
        generator.apply(to: &c)
        let pipeline = try RAGPipeline.open(c)
        let (summary, records) = try AnswerEvaluation.run(pipeline, queries: qs, k: k, generation: generator.generation,
                                                          checkCitations: !answering.noCitationCheck,
                                                          calibratedRefusal: !answering.noRefusalCalibration) { done, total in
            if Console.stderrIsTTY { Console.err("\ranswered \(done)/\(total)", terminator: done == total ? "\n" : "") }
        }
        if json { try Console.json(Output(summary: summary, records: records)); return }
        let f = { (x: Double) in String(format: "%.3f", x) }
        Console.out("""
            answers on \(summary.questions) questions from \(queries) (\(summary.answerable) answerable, \(summary.unanswerable) not)

            token F1             \(f(summary.f1))
            exact match          \(f(summary.exactMatch))   (the whole answer is the reference)
            key fact             \(f(summary.keyFactMatch))   (the answer contains the reference)
            citation accuracy    \(f(summary.citationAccuracy))   (a cited passage contains the reference answer)
            first citation       \(f(summary.firstCitationAccuracy))   (the first cited passage contains it)
            refusal accuracy     \(f(summary.refusalAccuracy))   (unanswerable questions declined)
            false refusals       \(f(summary.falseRefusalRate))   (answerable questions declined)
            latency ms           mean \(Int(summary.latencyMsMean)), p50 \(Int(summary.latencyMsP50)), p95 \(Int(summary.latencyMsP95))
            """)
    }
}
