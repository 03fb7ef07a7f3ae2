import Foundation
import Generator

/// One question's refusal signals in `rag eval refusal`.
public struct RefusalMarginRecord: Sendable, Codable {
    public var id: String?
    public var question: String
    public var answerable: Bool
    /// Best first-token logit − the refusal's first-token logit; nil when the pipeline declines
    /// the question itself (nothing relevant retrieved).
    public var margin: Float?
    /// With a probe: its log-odds that the passages answer, from a probe fitted without this question
    /// (`--probe-layers`: cross-validation) or the adapter's own (measuring it); nil when the pipeline
    /// declines the question itself.
    public var probeScore: Float?

    public init(id: String?, question: String, answerable: Bool, margin: Float?, probeScore: Float? = nil) {
        self.id = id; self.question = question; self.answerable = answerable; self.margin = margin; self.probeScore = probeScore
    }
}

/// The outcome of declining every question whose signal is at most `bias` (the first-token margin,
/// or the probe's log-odds).
public struct RefusalRates: Sendable, Codable, Equatable {
    public var bias: Float
    /// Unanswerable questions declined.
    public var refusal: Double
    /// Answerable questions declined.
    public var overRefusal: Double
}

/// `rag eval refusal`: calibrates `RefusalCalibration` on questions the adapter was not trained on.
/// Greedy decoding starts the refusal exactly when its first token's margin is at most the bias, and
/// a probe declines exactly when its log-odds are at most its threshold, so every rate follows from
/// one forward pass per question.
public enum RefusalCalibrationRun {
    /// Which signal a rate, separation or choice reads.
    public enum Signal: Sendable {
        case margin, probe
        func value(_ r: RefusalMarginRecord) -> Float? { self == .margin ? r.margin : r.probeScore }
    }

    /// Each question's margin, and its hidden states after each of `probeLayers` blocks (nil for the
    /// pipeline's own refusals).
    public static func signals(_ pipeline: RAGPipeline, queries: [EvalQuery], k: Int = 5, generation: GenerationOptions,
                               refusal: String, probeLayers: [Int] = [],
                               progress: (Int, Int) -> Void) throws -> (records: [RefusalMarginRecord], hidden: [[[Float]]?]) {
        var records: [RefusalMarginRecord] = [], hidden: [[[Float]]?] = []
        for (i, q) in queries.enumerated() {
            let request = AnswerRequest(messages: q.messages, search: SearchOptions(k: k), generation: generation)
            let s = try pipeline.refusalSignals(request, refusal: refusal, probeLayers: probeLayers)
            records.append(RefusalMarginRecord(id: q.id, question: q.question, answerable: q.isAnswerable, margin: s?.margin))
            hidden.append(s?.hidden)
            progress(i + 1, queries.count)
        }
        return (records, hidden)
    }

    public static func rates(_ records: [RefusalMarginRecord], bias: Float, signal: Signal = .margin) -> RefusalRates {
        func declined(_ r: RefusalMarginRecord) -> Bool { signal.value(r).map { $0 <= bias } ?? true }
        let ans = records.filter(\.answerable), un = records.filter { !$0.answerable }
        func share(_ xs: [RefusalMarginRecord]) -> Double { xs.isEmpty ? 0 : Double(xs.filter(declined).count) / Double(xs.count) }
        return RefusalRates(bias: bias, refusal: share(un), overRefusal: share(ans))
    }

    /// How well the signal tells the two kinds apart: the chance that an answerable question's value
    /// is larger than an unanswerable one's (ties count half; the pipeline's own refusals count as the
    /// smallest values). 0.5 is chance: no threshold then declines the one kind without the other.
    public static func separation(_ records: [RefusalMarginRecord], signal: Signal = .margin) -> Double? {
        let value = { (r: RefusalMarginRecord) in signal.value(r) ?? -.infinity }
        let ans = records.filter(\.answerable).map(value), un = records.filter { !$0.answerable }.map(value)
        guard !ans.isEmpty, !un.isEmpty else { return nil }
        var wins = 0.0
        for a in ans { for u in un { wins += a > u ? 1 : a == u ? 0.5 : 0 } }
        return wins / Double(ans.count * un.count)
    }

    /// The largest threshold whose over-refusal stays within `maxOverRefusal`, placed midway between
    /// the last answerable value it spares and the one below it (so a question near the line is not
    /// decided by rounding); nil when even the lowest declines too many. A margin's bias is at least 0
    /// (a negative bias would push away from declining); a probe's threshold is any log-odds.
    public static func choose(_ records: [RefusalMarginRecord], maxOverRefusal: Double, signal: Signal = .margin) -> RefusalRates? {
        let answerable = records.filter(\.answerable).compactMap(signal.value).sorted()
        guard !answerable.isEmpty else { return nil }
        let all = records.filter(\.answerable)
        // Declining the j smallest answerable values (and the pipeline's own refusals) is allowed
        // while (j + pipeline refusals) / answerable ≤ maxOverRefusal.
        let pipelineDeclined = all.count - answerable.count
        let allowed = Int((maxOverRefusal * Double(all.count)).rounded(.down)) - pipelineDeclined
        guard allowed >= 0 else { return nil }
        let floor: Float = signal == .margin ? 0 : -.greatestFiniteMagnitude
        let bias: Float
        if allowed >= answerable.count {
            bias = answerable[answerable.count - 1] + 1
        } else {
            let spared = answerable[allowed]  // the smallest value left answering
            let below = allowed > 0 ? answerable[allowed - 1] : (signal == .margin ? min(0, spared - 1) : spared - 1)
            bias = below < spared ? (below + spared) / 2 : spared - 1e-3
        }
        return rates(records, bias: max(floor, bias), signal: signal)
    }

    /// The log-odds of an existing probe (`hidden[question]` = [its layer's state]) into `records`, to
    /// measure it on other questions; its rates are `rates(records, bias: probe.threshold, signal: .probe)`.
    public static func scoreProbe(_ records: inout [RefusalMarginRecord], hidden: [[[Float]]?], probe: AnswerabilityProbe) throws {
        for i in records.indices {
            if let h = hidden[i]?.first { records[i].probeScore = try probe.linear.score(h) }
        }
    }

    /// One candidate layer's cross-validated probe.
    public struct ProbeLayerResult: Sendable, Codable {
        public var layer: Int
        public var separation: Double?
    }

    /// Fits the answerability probe on the hidden states of the questions the pipeline did not decline
    /// itself (`hidden[question][i]` after `layers[i]` blocks): each layer's out-of-fold log-odds
    /// (`folds`-fold cross-validation, folds fixed by each question's position) and their separation;
    /// the best-separating layer's log-odds go into `records` and its threshold is chosen on them; then
    /// its probe is refitted on all the questions.
    public static func fitProbe(_ records: inout [RefusalMarginRecord], hidden: [[[Float]]?], layers: [Int], l2: Float,
                                folds: Int = 5, maxOverRefusal: Double)
        throws -> (probe: AnswerabilityProbe, rates: RefusalRates, layers: [ProbeLayerResult])? {
        let used = hidden.indices.filter { hidden[$0]?.count == layers.count }
        let labels = used.map { records[$0].answerable }
        var results: [ProbeLayerResult] = [], best: (index: Int, separation: Double, scored: [RefusalMarginRecord])?
        for (li, layer) in layers.enumerated() {
            let features = used.compactMap { hidden[$0]?[li] }
            var scored = records
            for f in 0..<folds {
                let held = used.indices.filter { $0 % folds == f }, kept = used.indices.filter { $0 % folds != f }
                guard !held.isEmpty else { continue }
                let probe = try LinearProbe.fit(features: kept.map { features[$0] }, labels: kept.map { labels[$0] }, l2: l2)
                for j in held { scored[used[j]].probeScore = try probe.score(features[j]) }
            }
            let separation = separation(scored, signal: .probe)
            results.append(ProbeLayerResult(layer: layer, separation: separation))
            if let separation, separation > best?.separation ?? -1 { best = (li, separation, scored) }
        }
        guard let best else { return nil }
        records = best.scored
        guard let chosen = choose(records, maxOverRefusal: maxOverRefusal, signal: .probe) else { return nil }
        let probe = try LinearProbe.fit(features: used.compactMap { hidden[$0]?[best.index] }, labels: labels, l2: l2)
        return (AnswerabilityProbe(layer: layers[best.index], linear: probe, threshold: chosen.bias), chosen, results)
    }
}
