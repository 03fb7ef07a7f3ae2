import Foundation

/// Learning rate as a function of the step (0-based).
public enum LRSchedule: Sendable {
    case constant(Float)
    /// Linear ramp from 0 to `peak` over `warmup` steps, then constant.
    case linearWarmup(peak: Float, warmup: Int)
    /// Linear warmup, then cosine decay from `peak` to `minimum` at `total` steps (flat after).
    case cosine(peak: Float, minimum: Float, warmup: Int, total: Int)

    public func learningRate(at step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case .linearWarmup(let peak, let warmup):
            return step < warmup ? peak * Float(step + 1) / Float(warmup) : peak
        case .cosine(let peak, let minimum, let warmup, let total):
            if step < warmup { return peak * Float(step + 1) / Float(warmup) }
            let span = Swift.max(total - warmup, 1)
            let progress = Swift.min(Float(step - warmup) / Float(span), 1)
            return minimum + 0.5 * (peak - minimum) * (1 + Foundation.cos(Float.pi * progress))
        }
    }
}
