import XCTest
@testable import RAG
import Generator

final class RefusalCalibrationTests: XCTestCase {
    func record(_ answerable: Bool, _ margin: Float?) -> RefusalMarginRecord {
        RefusalMarginRecord(id: nil, question: "q", answerable: answerable, margin: margin)
    }

    func testRatesDeclineEveryMarginAtOrBelowTheBias() {
        let records = [record(true, 5), record(true, 2), record(false, 1), record(false, 3), record(false, nil)]
        XCTAssertEqual(RefusalCalibrationRun.rates(records, bias: 0), RefusalRates(bias: 0, refusal: 1.0 / 3, overRefusal: 0))
        XCTAssertEqual(RefusalCalibrationRun.rates(records, bias: 3), RefusalRates(bias: 3, refusal: 1, overRefusal: 0.5))
        // answerable 5 beats all three; 2 beats 1 and nil, loses to 3: (3 + 2) / 6
        XCTAssertEqual(RefusalCalibrationRun.separation(records) ?? 0, 5.0 / 6, accuracy: 1e-12)
        XCTAssertNil(RefusalCalibrationRun.separation([record(true, 1)]))
    }

    func testChosenBiasKeepsOverRefusalWithinTheCapMidwayBetweenMargins() throws {
        // 10 answerable margins 1…10; unanswerable ones low
        let records = (1...10).map { record(true, Float($0)) } + [record(false, 0.5), record(false, 1.5), record(false, 2.6)]
        let c = try XCTUnwrap(RefusalCalibrationRun.choose(records, maxOverRefusal: 0.2))
        XCTAssertEqual(c.bias, 2.5)  // declines the answerable 1 and 2 (20 %), spares 3
        XCTAssertEqual(c.overRefusal, 0.2)
        XCTAssertEqual(c.refusal, 2.0 / 3, accuracy: 1e-12)
        let none = try XCTUnwrap(RefusalCalibrationRun.choose(records, maxOverRefusal: 0.05))
        XCTAssertEqual(none.overRefusal, 0)
        XCTAssertEqual(none.bias, 0.5)  // midway between 0 and the smallest answerable margin
        // the pipeline's own refusals of answerable questions use up the allowance
        XCTAssertNil(RefusalCalibrationRun.choose([record(true, nil), record(true, 4)], maxOverRefusal: 0.2))
    }

    /// Of two layers, the probe picks the one whose states tell the kinds apart, scores every question
    /// with a probe fitted without it, keeps the cap, and an existing probe measures the same way.
    func testProbeFitPicksTheSeparatingLayerByCrossValidation() throws {
        var state: UInt64 = 9
        func noise() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) - 0.5
        }
        var records: [RefusalMarginRecord] = [], hidden: [[[Float]]?] = []
        for i in 0..<80 {
            let answerable = i % 2 == 0
            records.append(RefusalMarginRecord(id: "\(i)", question: "q\(i)", answerable: answerable, margin: 1))
            let informative = [(answerable ? 0.6 : -0.6) + noise(), noise(), noise()]
            hidden.append([[noise(), noise(), noise()], informative])
        }
        records.append(RefusalMarginRecord(id: "x", question: "declined by the pipeline", answerable: false, margin: nil))
        hidden.append(nil)
        let fit = try XCTUnwrap(RefusalCalibrationRun.fitProbe(&records, hidden: hidden, layers: [3, 7], l2: 0.2, maxOverRefusal: 0.1))
        XCTAssertEqual(fit.probe.layer, 7)
        XCTAssertEqual(fit.layers.map(\.layer), [3, 7])
        XCTAssertGreaterThan(fit.layers[1].separation ?? 0, 0.9)
        XCTAssertLessThan(fit.layers[0].separation ?? 1, 0.75)
        XCTAssertLessThanOrEqual(fit.rates.overRefusal, 0.1)
        XCTAssertGreaterThan(fit.rates.refusal, 0.8)
        XCTAssertEqual(records.filter { $0.probeScore != nil }.count, 80)

        var measured = records.map { RefusalMarginRecord(id: $0.id, question: $0.question, answerable: $0.answerable, margin: $0.margin) }
        try RefusalCalibrationRun.scoreProbe(&measured, hidden: hidden.map { $0.map { [$0[1]] } }, probe: fit.probe)
        let r = RefusalCalibrationRun.rates(measured, bias: fit.probe.threshold, signal: .probe)
        XCTAssertGreaterThan(r.refusal, 0.8)
        XCTAssertLessThanOrEqual(r.overRefusal, 0.1)
    }

    func testCalibrationFileErrorsNameTheFileAndField() throws {
        let temp = try TempFolder()
        XCTAssertNil(try RefusalCalibration.load(adapterFolder: temp.url))
        try RefusalCalibration(refusal: "I don't know.", bias: 2.5, calibration: "test").write(adapterFolder: temp.url)
        XCTAssertEqual(try RefusalCalibration.load(adapterFolder: temp.url), RefusalCalibration(refusal: "I don't know.", bias: 2.5, calibration: "test"))
        let file = temp.url.appendingPathComponent(RefusalCalibration.fileName).path
        for (text, field) in [("{\"refusal\": \"\", \"bias\": 1}", "refusal"), ("{\"refusal\": \"No.\", \"bias\": 1e9}", "bias"),
                              ("{\"bias\": 1}", "refusal"), ("not json", "answering.json"),
                              ("{\"refusal\": \"No.\", \"bias\": 0, \"probe\": {\"layer\": -1, \"linear\": {\"weights\": [1], \"bias\": 0}, \"threshold\": 0}}", "probe.layer"),
                              ("{\"refusal\": \"No.\", \"bias\": 0, \"probe\": {\"layer\": 3, \"linear\": {\"weights\": [], \"bias\": 0}, \"threshold\": 0}}", "probe.linear.weights")] {
            try temp.write(RefusalCalibration.fileName, text)
            XCTAssertThrowsError(try RefusalCalibration.load(adapterFolder: temp.url)) { error in
                XCTAssertTrue("\(error)".contains(file), "\(error)")
                XCTAssertTrue("\(error)".contains(field), "\(error)")
            }
        }
    }

    /// The adapter's calibration biases the first token of an answer, and only of the adapter's answers.
    func testTheAdaptersBiasOpensTheAnswerWithItsRefusal() throws {
        let temp = try TempFolder()
        let adapter = temp.url.appendingPathComponent("adapter", isDirectory: true)
        try FileManager.default.copyItem(at: AdapterPipelineTests.adapter, to: adapter)
        let refusal = "Sorry, the passages do not say."
        try RefusalCalibration(refusal: refusal, bias: 100).write(adapterFolder: adapter)
        try temp.write("docs/fusion.md", "# Fusion\n\nReciprocal rank fusion adds 1 / (60 + rank) over the rankings for each document.")
        let e = try TestModels.requireEmbedder(), g = try TestModels.requireGenerator()
        var c = RAGPipeline.Configuration(database: temp.url.appendingPathComponent("kb.db"))
        c.adapterPath = adapter.path
        c.minRelevance = -1
        let p = try RAGPipeline(configuration: c, embedder: e) { g }
        _ = try p.ingest(folder: temp.url.appendingPathComponent("docs"), progress: { _ in })
        func answer(model: String? = nil, calibrated: Bool = true) throws -> String {
            var generation = GenerationOptions(sampling: .greedy(maxTokens: 3))
            generation.model = model
            return try p.answerSync(AnswerRequest(question: "What does reciprocal rank fusion add up?", generation: generation,
                                                  calibratedRefusal: calibrated), isCancelled: { false }, onToken: { _ in true }).answer
        }
        let opened = try answer()
        XCTAssertTrue(opened.hasPrefix("Sorry"), opened)
        XCTAssertFalse(try answer(calibrated: false).hasPrefix("Sorry"))
        XCTAssertFalse(try answer(model: p.models.generator).hasPrefix("Sorry"), "the base model has no calibration")
        let signals = try XCTUnwrap(p.refusalSignals(AnswerRequest(question: "What does reciprocal rank fusion add up?"), refusal: refusal, probeLayers: [12, 30]))
        XCTAssertGreaterThan(signals.margin, 0, "greedy decoding does not open with the refusal on its own")
        XCTAssertEqual(signals.hidden.map(\.count), [g.model.config.dim, g.model.config.dim])

        // A probe declines before generating when its log-odds are at most the threshold, and only then.
        let probe = LinearProbe(weights: [Float](repeating: 0, count: g.model.config.dim), bias: 1)
        for (threshold, declines) in [(Float(1), true), (Float(0.5), false)] {
            try RefusalCalibration(refusal: refusal, bias: 0, probe: AnswerabilityProbe(layer: 12, linear: probe, threshold: threshold))
                .write(adapterFolder: adapter)
            let probed = try RAGPipeline(configuration: c, embedder: e) { g }  // (an adapter's calibration is read when it loads)
            let result = try probed.answerSync(AnswerRequest(question: "What does reciprocal rank fusion add up?", generation: GenerationOptions(sampling: .greedy(maxTokens: 3))),
                                          isCancelled: { false }, onToken: { _ in true })
            XCTAssertEqual(result.refused, declines)
            XCTAssertEqual(result.answer == RAGPipeline.refusal, declines, result.answer)
            if declines { XCTAssertFalse(result.passages.isEmpty, "a declined answer still shows what was found") }
        }
        // a probe made for another model is an error naming the file when the adapter loads
        for (layer, width) in [(12, g.model.config.dim + 1), (g.model.config.layers + 1, g.model.config.dim)] {
            try RefusalCalibration(refusal: refusal, bias: 0, probe: AnswerabilityProbe(
                layer: layer, linear: LinearProbe(weights: [Float](repeating: 0, count: width), bias: 1), threshold: 0)).write(adapterFolder: adapter)
            let other = try RAGPipeline(configuration: c, embedder: e) { g }
            XCTAssertThrowsError(try other.answerSync(AnswerRequest(question: "What does reciprocal rank fusion add up?"),
                                                      isCancelled: { false }, onToken: { _ in true })) { error in
                XCTAssertTrue("\(error)".contains(RefusalCalibration.fileName), "\(error)")
            }
        }
    }

    func testProbeThresholdSparesAnswerableQuestionsWithinTheCap() throws {
        // probe log-odds may be negative: no floor at 0 as for a margin
        let records = (1...10).map { RefusalMarginRecord(id: nil, question: "q", answerable: true, margin: 1, probeScore: Float($0) - 5) }
            + [RefusalMarginRecord(id: nil, question: "q", answerable: false, margin: 1, probeScore: -6)]
        let c = try XCTUnwrap(RefusalCalibrationRun.choose(records, maxOverRefusal: 0.1, signal: .probe))
        XCTAssertEqual(c.bias, -3.5)  // declines the answerable −4, spares −3
        XCTAssertEqual(c.overRefusal, 0.1)
        XCTAssertEqual(c.refusal, 1)
        XCTAssertEqual(RefusalCalibrationRun.separation(records, signal: .probe), 1)
    }
}
