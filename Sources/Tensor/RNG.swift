import Foundation
import SeededRandom

/// A small seeded generator (xoshiro256**, state filled by splitmix64) for initialisation and
/// dropout. A value type: pass it `inout`, so no state is shared between threads.
public struct TensorRNG: Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    /// False for `placeholder`: `Tensor.randn`/`uniform` then leave their tensors at zero.
    public private(set) var fillsTensors = true

    /// For a model whose weights are loaded right after it is built: its layers' random
    /// initialisation is skipped (tensors stay zero): about 0.4 s of every all-MiniLM-L6-v2 load.
    public static var placeholder: TensorRNG {
        var rng = TensorRNG(seed: 0)
        rng.fillsTensors = false
        return rng
    }

    /// The state is filled by SplitMix64 from `seed`, as xoshiro's authors recommend.
    public init(seed: UInt64) {
        var seeder = SplitMix64(seed: seed)
        s = (seeder.next(), seeder.next(), seeder.next(), seeder.next())
    }

    @inline(__always) static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = TensorRNG.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = TensorRNG.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / Float(1 << 24)) }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Float {
        let u1 = max(Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53)), 1e-300)
        let u2 = Double(next() >> 11) * (1.0 / Double(UInt64(1) << 53))
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

extension Tensor {
    /// Normal(0, std) values.
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout TensorRNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        guard rng.fillsTensors else { return t }
        for i in 0..<t.count { t.data[i] = rng.normal() * std }
        return t
    }

    /// Uniform(low, high) values.
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout TensorRNG, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        guard rng.fillsTensors else { return t }
        for i in 0..<t.count { t.data[i] = low + (high - low) * rng.uniform() }
        return t
    }
}
