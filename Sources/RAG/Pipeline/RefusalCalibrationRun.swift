import Foundation

/// One question's refusal margin in `rag eval refusal`.
public struct RefusalMarginRecord: Sendable, Codable {
    public var id: String?
    public var question: String
    public var answerable: Bool
    /// Best first-token logit − the refusal's first-token logit; nil when the pipeline declines
    /// the question itself (nothing relevant retrieved).
    public var margin: Float?
}

/// The outcome of declining every question whose margin is at most `bias`.
public struct RefusalRates: Sendable, Codable, Equatable {
    public var bias: Float
    /// Unanswerable questions declined.
    public var refusal: Double
    /// Answerable questions declined.
    public var overRefusal: Double
}

/// `rag eval refusal`: calibrates `RefusalCalibration.bias` on questions the adapter was not trained on.
/// Greedy decoding starts the refusal exactly when its first token's margin is at most the bias, so
/// each bias's refusal and over-refusal rates follow from one forward pass per question.
public enum RefusalCalibrationRun {
    public static func margins(_ pipeline: RAGPipeline, queries: [EvalQuery], k: Int = 5, generation: GenerationOptions,
                               refusal: String, progress: (Int, Int) -> Void) throws -> [RefusalMarginRecord] {
        try queries.enumerated().map { i, q in
            let request = AnswerRequest(messages: q.messages, search: SearchOptions(k: k), generation: generation)
            let margin = try pipeline.refusalMargin(request, refusal: refusal)
            progress(i + 1, queries.count)
            return RefusalMarginRecord(id: q.id, question: q.question, answerable: q.isAnswerable, margin: margin)
        }
    }

    public static func rates(_ records: [RefusalMarginRecord], bias: Float) -> RefusalRates {
        func declined(_ r: RefusalMarginRecord) -> Bool { r.margin.map { $0 <= bias } ?? true }
        let ans = records.filter(\.answerable), un = records.filter { !$0.answerable }
        func share(_ xs: [RefusalMarginRecord]) -> Double { xs.isEmpty ? 0 : Double(xs.filter(declined).count) / Double(xs.count) }
        return RefusalRates(bias: bias, refusal: share(un), overRefusal: share(ans))
    }

    /// How well the margin tells the two kinds apart: the chance that an answerable question's margin
    /// is larger than an unanswerable one's (ties count half; the pipeline's own refusals count as the
    /// smallest margins). 0.5 is chance: no bias then declines the one kind without the other.
    public static func separation(_ records: [RefusalMarginRecord]) -> Double? {
        let value = { (r: RefusalMarginRecord) in r.margin ?? -.infinity }
        let ans = records.filter(\.answerable).map(value), un = records.filter { !$0.answerable }.map(value)
        guard !ans.isEmpty, !un.isEmpty else { return nil }
        var wins = 0.0
        for a in ans { for u in un { wins += a > u ? 1 : a == u ? 0.5 : 0 } }
        return wins / Double(ans.count * un.count)
    }

    /// The largest bias whose over-refusal stays within `maxOverRefusal`, placed midway between the
    /// last answerable margin it spares and the one below it (so a question near the line is not decided
    /// by rounding); nil when even bias 0 declines too many.
    public static func choose(_ records: [RefusalMarginRecord], maxOverRefusal: Double) -> RefusalRates? {
        let answerable = records.filter(\.answerable).compactMap(\.margin).sorted()
        guard !answerable.isEmpty else { return nil }
        let all = records.filter(\.answerable)
        // Declining the j smallest answerable margins (and the pipeline's own refusals) is allowed
        // while (j + pipeline refusals) / answerable ≤ maxOverRefusal.
        let pipelineDeclined = all.count - answerable.count
        let allowed = Int((maxOverRefusal * Double(all.count)).rounded(.down)) - pipelineDeclined
        guard allowed >= 0 else { return nil }
        let bias: Float
        if allowed >= answerable.count {
            bias = answerable[answerable.count - 1] + 1
        } else {
            let spared = answerable[allowed]  // the smallest margin left answering
            let below = allowed > 0 ? answerable[allowed - 1] : min(0, spared - 1)
            bias = below < spared ? (below + spared) / 2 : spared - 1e-3
        }
        return rates(records, bias: max(0, bias))
    }
}
