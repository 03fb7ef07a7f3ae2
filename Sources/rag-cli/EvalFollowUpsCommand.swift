import ArgumentParser
import Foundation
import RAG

/// `rag eval followups`: hit@k of each way of retrieving for a follow-up question, on a file of
/// questions with their conversation (corpus/evaluation/followups.jsonl).
struct EvalFollowUpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "followups",
        abstract: "hit@1/5/10 and MRR@10 of follow-up questions retrieved alone, with the recent turns, and rewritten by the generator.")

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions

    @Option(name: .long, help: "JSONL of {\"history\": [{\"role\", \"content\"}], \"question\", \"relevant\", \"page\"?}.")
    var queries: String

    @Option(name: .long, help: "vector, lexical or hybrid.")
    var mode: RetrievalMode = .hybrid

    @Flag(name: .long, help: "Print JSON (scores and each question's retrieval text).")
    var json = false

    func run() async throws {
        let qs = try EvalQuery.load(URL(fileURLWithPath: queries))
        var c = try base.existing()
        generator.apply(to: &c)
        let pipeline = try RAGPipeline.open(c)
        let rows = try FollowUpEvaluation.run(pipeline, queries: qs, mode: mode)
        if json { try Console.json(rows); return }
        Console.out("follow-up retrieval (\(mode.rawValue)) on \(qs.filter(\.isAnswerable).count) questions from \(queries)\n")
        Console.out("retrieves with   hit@1   hit@5   hit@10  MRR@10")
        for r in rows {
            let s = r.scores
            let cells = [s.hitAt1, s.hitAt5, s.hitAt10, s.mrrAt10].map { String(format: "%.3f", $0) }
            Console.out(r.strategy.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + cells.joined(separator: "   "))
        }
    }
}
