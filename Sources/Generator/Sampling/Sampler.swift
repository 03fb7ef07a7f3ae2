// Turns the logits of one position into the next token:
//   repetition penalty → (temperature 0: argmax) → ÷ temperature → top-k → softmax → top-p → min-p
//   → draw. The order of temperature, top-k, top-p and min-p is that of Hugging Face transformers.
// Tokens whose scaled logit is more than 30 below the maximum (probability ratio < 1e-13) are
// never candidates; skipping them keeps the sort short.

import Foundation
import SeededRandom

struct Sampler {
    let options: SamplingOptions
    private var random: SplitMix64
    /// (scaled logit, id) of the candidates; reused between tokens.
    private var candidates: [(logit: Float, id: Int)] = []
    private var probabilities: [Double] = []

    init(options: SamplingOptions) {
        self.options = options
        var system = SystemRandomNumberGenerator()
        random = SplitMix64(seed: options.seed ?? system.next())
    }

    /// The next token id. `logits` [count] is modified (penalty); `recent` are the latest tokens.
    mutating func next(logits: UnsafeMutablePointer<Float>, count: Int, recent: ArraySlice<Int>) -> Int {
        applyRepetitionPenalty(logits, count: count, recent: recent)
        if options.temperature == 0 { return argmax(logits, count: count) }

        // candidates: scaled logits close enough to the maximum, most likely first
        let inverseT = 1 / options.temperature
        var maxLogit = -Float.infinity
        for i in 0..<count where logits[i] > maxLogit { maxLogit = logits[i] }
        let floor = maxLogit * inverseT - 30
        candidates.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let scaled = logits[i] * inverseT
            if scaled >= floor { candidates.append((scaled, i)) }
        }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if options.topK > 0, candidates.count > options.topK { candidates.removeSubrange(options.topK...) }

        // softmax over what is left
        let top = Double(candidates[0].logit)
        probabilities.removeAll(keepingCapacity: true)
        var total = 0.0
        for c in candidates {
            let p = exp(Double(c.logit) - top)
            probabilities.append(p)
            total += p
        }
        var kept = candidates.count
        if options.topP < 1 {  // smallest prefix whose probability reaches top_p
            var cumulative = 0.0
            for i in 0..<kept {
                cumulative += probabilities[i] / total
                if cumulative >= Double(options.topP) { kept = i + 1; break }
            }
        }
        if options.minP > 0 {  // probabilities relative to the most likely (probabilities[0] = 1)
            var i = 1
            while i < kept, probabilities[i] >= Double(options.minP) { i += 1 }
            kept = i
        }

        var mass = 0.0
        for i in 0..<kept { mass += probabilities[i] }
        var u = random.nextUnit() * mass
        for i in 0..<kept {
            u -= probabilities[i]
            if u < 0 { return candidates[i].id }
        }
        return candidates[kept - 1].id
    }

    private func applyRepetitionPenalty(_ logits: UnsafeMutablePointer<Float>, count: Int, recent: ArraySlice<Int>) {
        let penalty = options.repetitionPenalty
        guard penalty != 1, options.repetitionWindow > 0 else { return }
        var seen = Set<Int>()
        for id in recent.suffix(options.repetitionWindow) where id >= 0 && id < count && seen.insert(id).inserted {
            logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty
        }
    }
}

/// Index of the largest value (the first one on ties).
func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    for i in 1..<max(count, 1) where x[i] > x[best] { best = i }
    return best
}
