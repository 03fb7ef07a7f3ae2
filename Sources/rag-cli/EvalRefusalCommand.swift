import ArgumentParser
import Foundation
import RAG

struct EvalRefusalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refusal",
        abstract: "Calibrate when the adapter declines: its first token's refusal bias, or (--probe-layers) a probe on its hidden state.",
        discussion: """
            Use questions the adapter was not trained on, answerable and not, and never the set you \
            measure with (train/rag-adapter/calibrate-refusal.sh builds such a set from the training build). \
            --write saves the chosen bias as answering.json in the adapter's folder, where rag ask, chat \
            and the server read it. With --probe-layers N… it also fits a linear probe on the hidden state \
            after N blocks at the prompt's end (logistic regression; its rates are cross-validated) and \
            --write saves the probe and its threshold instead of a bias: the pipeline then declines \
            before generating when the probe reads the passages as not holding the answer. Without \
            --probe-layers, an adapter whose answering.json has a probe gets that probe measured on \
            the questions (its separation, and its rates at its threshold).
            """)

    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions

    @Option(name: .long, help: "JSONL of {\"question\", \"answerable\"} (the format of rag eval answers).")
    var queries: String

    @Option(name: .long, help: "The sentence the adapter was trained to decline with (default: the one in its answering.json).")
    var refusal: String?

    @Option(name: .long, help: "The largest share of answerable questions the chosen bias may decline.")
    var maxOverRefusal: Double = 0.05

    @Option(name: .long, parsing: .upToNextOption,
            help: "Fit an answerability probe on the hidden state after this many blocks (transformers' hidden_states index); given several, the best-separating one (cross-validated).")
    var probeLayers: [Int] = []

    @Option(name: .long, help: "The probe's L2 penalty (on standardised features).")
    var probeL2: Float = 0.2

    @Flag(name: .long, help: "Write the chosen bias (or probe) to answering.json in the adapter's folder.")
    var write = false

    @Flag(name: .long, help: "Print JSON (the choice, the rates per bias, and every question's margin).")
    var json = false

    func validate() throws {
        guard maxOverRefusal >= 0, maxOverRefusal < 1 else { throw ValidationError("--max-over-refusal must be in [0, 1)") }
        if probeLayers.contains(where: { $0 < 0 }) { throw ValidationError("--probe-layers must be ≥ 0") }
        guard probeL2 >= 0, probeL2.isFinite else { throw ValidationError("--probe-l2 must be ≥ 0") }
    }

    struct Output: Encodable {
        var separation: Double?
        var chosen: RefusalRates?
        var probeSeparation: Double?
        var probeChosen: RefusalRates?
        var probeLayers: [RefusalCalibrationRun.ProbeLayerResult]?
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
        let measured = probeLayers.isEmpty ? existing?.probe : nil  // the adapter's own probe, measured on these questions
        if measured != nil, write {
            throw ValidationError("\(adapterPath)/\(RefusalCalibration.fileName) has a probe: --write needs --probe-layers to fit a new one")
        }
        var (records, hidden) = try RefusalCalibrationRun.signals(pipeline, queries: qs, generation: generator.generation, refusal: sentence,
                                                                 probeLayers: measured.map { [$0.layer] } ?? probeLayers) { done, total in
            if Console.stderrIsTTY { Console.err("\rscored \(done)/\(total)", terminator: done == total ? "\n" : "") }
        }
        let chosen = RefusalCalibrationRun.choose(records, maxOverRefusal: maxOverRefusal)
        let probe = probeLayers.isEmpty ? nil
            : try RefusalCalibrationRun.fitProbe(&records, hidden: hidden, layers: probeLayers, l2: probeL2, maxOverRefusal: maxOverRefusal)
        if let measured { try RefusalCalibrationRun.scoreProbe(&records, hidden: hidden, probe: measured) }
        let measuredRates = measured.map { RefusalCalibrationRun.rates(records, bias: $0.threshold, signal: .probe) }
        let table = stride(from: Float(0), through: 8, by: 0.5).map { RefusalCalibrationRun.rates(records, bias: $0) }
        let answerable = records.filter(\.answerable).count, un = records.count - answerable
        let f = { (x: Double) in String(format: "%.3f", x) }
        if write {
            let base = String(format: "rag eval refusal on %d questions of %@ (%d answerable, %d not), --max-over-refusal %.2f: ",
                              records.count, URL(fileURLWithPath: queries).lastPathComponent, answerable, un, maxOverRefusal)
            let calibration: RefusalCalibration
            if !probeLayers.isEmpty {
                guard let probe else { throw ValidationError("no probe threshold keeps over-refusal within \(maxOverRefusal): nothing written") }
                // The probe decides; a first-token bias on top would decline more answerable questions.
                calibration = RefusalCalibration(refusal: sentence, bias: 0, calibration: base + String(
                    format: "probe on the hidden state after %d blocks, l2 %g, cross-validated: refusal %.3f, over-refusal %.3f",
                    probe.probe.layer, probeL2, probe.rates.refusal, probe.rates.overRefusal), probe: probe.probe)
            } else {
                guard let chosen else { throw ValidationError("no bias keeps over-refusal within \(maxOverRefusal): nothing written") }
                calibration = RefusalCalibration(refusal: sentence, bias: chosen.bias, calibration: base + String(
                    format: "refusal %.3f, over-refusal %.3f", chosen.refusal, chosen.overRefusal))
            }
            try calibration.write(adapterFolder: URL(fileURLWithPath: adapterPath, isDirectory: true))
        }
        let separation = RefusalCalibrationRun.separation(records)
        let probeSeparation = probeLayers.isEmpty && measured == nil ? nil : RefusalCalibrationRun.separation(records, signal: .probe)
        if json {
            return try Console.json(Output(separation: separation, chosen: chosen, probeSeparation: probeSeparation,
                                           probeChosen: probe?.rates ?? measuredRates, probeLayers: probe?.layers, table: table, records: records))
        }
        Console.out("refusal margins on \(records.count) questions from \(queries) (\(answerable) answerable, \(un) not)")
        Console.out("separation (AUC: an answerable question's margin above an unanswerable one's; 0.5 is chance): "
                    + (separation.map(f) ?? "–") + "\n")
        Console.out("bias   refusal  over-refusal")
        for r in table { Console.out(String(format: "%4.1f", r.bias) + "   " + f(r.refusal) + "    " + f(r.overRefusal)) }
        let written = write && probeLayers.isEmpty ? " (written to \(adapterPath)/\(RefusalCalibration.fileName))" : ""
        if let chosen {
            Console.out("\nchosen: bias \(String(format: "%.3f", chosen.bias)): refusal \(f(chosen.refusal)), over-refusal \(f(chosen.overRefusal))" + written)
        } else {
            Console.out("\nno bias keeps over-refusal within \(maxOverRefusal)")
        }
        if let measured, let r = measuredRates {
            Console.out("\nthe adapter's probe (after \(measured.layer) blocks, threshold \(String(format: "%.3f", measured.threshold))) on these questions:")
            Console.out("separation (AUC) " + (probeSeparation.map(f) ?? "–") + ", refusal \(f(r.refusal)), over-refusal \(f(r.overRefusal))")
        }
        guard !probeLayers.isEmpty else { return }
        Console.out("\nprobe on the hidden state (l2 \(probeL2), 5-fold cross-validated log-odds): separation (AUC) by layer")
        for r in probe?.layers ?? [] { Console.out(String(format: "%4d   ", r.layer) + (r.separation.map(f) ?? "–")) }
        if let probe {
            Console.out("best: after \(probe.probe.layer) blocks, separation " + (probeSeparation.map(f) ?? "–"))
            Console.out("chosen: threshold \(String(format: "%.3f", probe.rates.bias)): refusal \(f(probe.rates.refusal)), over-refusal \(f(probe.rates.overRefusal))"
                        + (write ? " (written to \(adapterPath)/\(RefusalCalibration.fileName))" : ""))
        } else {
            Console.out("no threshold keeps over-refusal within \(maxOverRefusal)")
        }
    }
}
