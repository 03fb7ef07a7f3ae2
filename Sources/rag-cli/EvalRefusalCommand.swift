import ArgumentParser
import Foundation
import RAG

struct EvalRefusalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refusal",
        abstract: "Calibrate the adapter's refusal bias: how far each answer's first token is from the refusal's, and the refusal and over-refusal rates each bias gives.",
        discussion: """
            Use questions the adapter was not trained on, answerable and not, and never the set you \
            measure with (train/rag-adapter/calibrate-refusal.sh builds such a set from the training build). \
            --write saves the chosen bias as answering.json in the adapter's folder, where rag ask, chat \
            and the server read it.
            """)

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions

    @Option(name: .long, help: "JSONL of {\"question\", \"answerable\"} (the format of rag eval answers).")
    var queries: String

    @Option(name: .long, help: "The sentence the adapter was trained to decline with (default: the one in its answering.json).")
    var refusal: String?

    @Option(name: .long, help: "The largest share of answerable questions the chosen bias may decline.")
    var maxOverRefusal: Double = 0.05

    @Flag(name: .long, help: "Write the chosen bias to answering.json in the adapter's folder.")
    var write = false

    @Flag(name: .long, help: "Print JSON (the choice, the rates per bias, and every question's margin).")
    var json = false

    func validate() throws {
        guard maxOverRefusal >= 0, maxOverRefusal < 1 else { throw ValidationError("--max-over-refusal must be in [0, 1)") }
    }

    struct Output: Encodable {
        var separation: Double?
        var chosen: RefusalRates?
        var table: [RefusalRates]
        var records: [RefusalMarginRecord]
    }

    func run() async throws {
        let qs = try EvalQuery.load(URL(fileURLWithPath: queries))
        var c = try base.existing()
        generator.apply(to: &c)
        guard let adapterPath = c.activeAdapterPath else {
            throw ValidationError("no adapter: the refusal bias is calibrated for an adapter (--adapter, or the default model's)")
        }
        let pipeline = try RAGPipeline.open(c)
        let existing = try pipeline.refusalCalibration(named: nil)
        guard let sentence = refusal ?? existing?.refusal else {
            throw ValidationError("\(adapterPath) has no \(RefusalCalibration.fileName): give the adapter's refusal sentence with --refusal")
        }
        let records = try RefusalCalibrationRun.margins(pipeline, queries: qs, generation: generator.generation, refusal: sentence) { done, total in
            if Console.stderrIsTTY { Console.err("\rscored \(done)/\(total)", terminator: done == total ? "\n" : "") }
        }
        let chosen = RefusalCalibrationRun.choose(records, maxOverRefusal: maxOverRefusal)
        let table = stride(from: Float(0), through: 8, by: 0.5).map { RefusalCalibrationRun.rates(records, bias: $0) }
        if write {
            guard let chosen else { throw ValidationError("no bias keeps over-refusal within \(maxOverRefusal): nothing written") }
            let answerable = records.filter(\.answerable).count
            let note = String(format: "rag eval refusal on %d questions of %@ (%d answerable, %d not), --max-over-refusal %.2f: refusal %.3f, over-refusal %.3f",
                              records.count, URL(fileURLWithPath: queries).lastPathComponent, answerable, records.count - answerable,
                              maxOverRefusal, chosen.refusal, chosen.overRefusal)
            try RefusalCalibration(refusal: sentence, bias: chosen.bias, calibration: note)
                .write(adapterFolder: URL(fileURLWithPath: adapterPath, isDirectory: true))
        }
        let separation = RefusalCalibrationRun.separation(records)
        if json { return try Console.json(Output(separation: separation, chosen: chosen, table: table, records: records)) }
        let f = { (x: Double) in String(format: "%.3f", x) }
        let un = records.filter { !$0.answerable }.count
        Console.out("refusal margins on \(records.count) questions from \(queries) (\(records.count - un) answerable, \(un) not)")
        Console.out("separation (AUC: an answerable question's margin above an unanswerable one's; 0.5 is chance): "
                    + (separation.map(f) ?? "–") + "\n")
        Console.out("bias   refusal  over-refusal")
        for r in table { Console.out(String(format: "%4.1f", r.bias) + "   " + f(r.refusal) + "    " + f(r.overRefusal)) }
        if let chosen {
            Console.out("\nchosen: bias \(String(format: "%.3f", chosen.bias)): refusal \(f(chosen.refusal)), over-refusal \(f(chosen.overRefusal))"
                        + (write ? " (written to \(adapterPath)/\(RefusalCalibration.fileName))" : ""))
        } else {
            Console.out("\nno bias keeps over-refusal within \(maxOverRefusal)")
        }
    }
}
