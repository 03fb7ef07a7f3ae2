import Foundation
import Tensor

/// Options of distilling a teacher encoder into a smaller student.
public struct DistillationConfig: Sendable {
    public enum Loss: String, Sendable { case mse, cosine }
    public var epochs: Int = 1
    public var batchSize: Int = 32
    public var learningRate: Float = 1e-4
    public var warmupSteps: Int = 0
    public var weightDecay: Float = 0.01
    public var loss: Loss = .cosine
    public var seed: UInt64 = 0
    public var maxTokens: Int?
    public var maxSteps: Int?

    public init(epochs: Int = 1, batchSize: Int = 32, learningRate: Float = 1e-4, loss: Loss = .cosine, seed: UInt64 = 0) {
        self.epochs = epochs; self.batchSize = batchSize; self.learningRate = learningRate; self.loss = loss; self.seed = seed
    }
}

public struct DistillationReport: Sendable {
    public var steps: Int
    public var losses: [Float]
    /// Mean cosine between student and teacher embeddings of the held-out texts, before and after.
    public var heldOutCosineBefore: Float
    public var heldOutCosineAfter: Float
    public var seconds: Double
}

extension SentenceEncoder {
    /// A smaller encoder from this one: the embeddings and the listed layers (default: every other
    /// layer, 0, 2, 4, …) copied, same width, tokenizer and pooling.
    public func truncated(keepingLayers keep: [Int]? = nil) throws -> SentenceEncoder {
        let n = model.config.layers
        let layers = keep ?? Array(stride(from: 0, to: n, by: 2))
        guard !layers.isEmpty, layers.allSatisfy({ $0 >= 0 && $0 < n }) else {
            throw EmbedderError.invalidArgument("layers \(layers) to keep must be a non-empty subset of 0..<\(n)")
        }
        var config = model.config
        config.layers = layers.count
        let student = BertModel.unloaded(config: config, pooling: model.pooling)   // every parameter copied below
        let teacher = Dictionary(model.namedParameters(), uniquingKeysWith: { a, _ in a })
        for (name, parameter) in student.namedParameters() {
            var source = name
            if name.hasPrefix("encoder.layer."), let dot = name.dropFirst(14).firstIndex(of: "."),
               let j = Int(name[name.index(name.startIndex, offsetBy: 14)..<dot]) {
                source = "encoder.layer.\(layers[j])" + name[dot...]
            }
            guard let t = teacher[source] else { throw EmbedderError.invalidArgument("teacher has no parameter \(source)") }
            try parameter.copyValues(from: t)
        }
        return SentenceEncoder(model: student, tokenizer: tokenizer, tokenizerDirectory: tokenizerDirectory,
                               identity: identity + "-L" + layers.map(String.init).joined(separator: "."))
    }
}

/// Trains a student encoder to reproduce a teacher's sentence embeddings on given texts
/// (MSE or cosine loss on the normalised embeddings), e.g. a 3-layer student cut from a 6-layer teacher.
public final class Distiller {
    public let teacher: SentenceEncoder
    public let student: SentenceEncoder
    public let config: DistillationConfig

    public init(teacher: SentenceEncoder, student: SentenceEncoder, config: DistillationConfig) throws {
        guard teacher.dimension == student.dimension else {
            throw EmbedderError.invalidArgument("student dimension \(student.dimension) differs from the teacher's \(teacher.dimension)")
        }
        guard config.batchSize >= 1, config.epochs >= 1, config.learningRate > 0 else {
            throw EmbedderError.invalidArgument("distillation needs batch size, epochs >= 1 and a positive learning rate")
        }
        self.teacher = teacher; self.student = student; self.config = config
    }

    public func train(texts: [String], heldOut: [String], progress: (TrainingProgress) -> Void = { _ in }) throws -> DistillationReport {
        guard !texts.isEmpty else { throw EmbedderError.emptyTrainingSet("no texts to distil on") }
        let started = Date()
        let maxTokens = config.maxTokens ?? student.maxTokens
        let ids = texts.map { student.tokenizer.encode($0, maxLength: maxTokens) }
        let targets = try teacher.encode(tokenized: ids, batchSize: config.batchSize)   // fixed: computed once
        let before = try meanCosine(heldOut)
        student.model.setTrainable(true)
        let optimizer = AdamW(parameters: student.model.parameters(), learningRate: config.learningRate,
                              weightDecay: config.weightDecay)
        let schedule = LRSchedule.linearWarmup(peak: config.learningRate, warmup: config.warmupSteps)
        var rng = TensorRNG(seed: config.seed)
        let perEpoch = (texts.count + config.batchSize - 1) / config.batchSize
        let total = min(perEpoch * config.epochs, config.maxSteps ?? Int.max)
        var losses: [Float] = []
        training: for epoch in 0..<config.epochs {
            var order = Array(texts.indices)
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for start in stride(from: 0, to: order.count, by: config.batchSize) {
                if losses.count >= total { break training }
                let batch = Array(order[start..<min(start + config.batchSize, order.count)])
                let s = try student.embed(tokenized: batch.map { ids[$0] })                              // [B, C]
                let t = try Tensor(batch.flatMap { targets[$0] }, shape: [batch.count, student.dimension])  // [B, C]
                let loss: Tensor
                switch config.loss {
                case .mse: loss = try (s - t).square().mean()
                case .cosine: loss = 1 - (try (s.l2NormalizedRows() * t).sum(axis: -1).mean())
                }
                optimizer.learningRate = schedule.learningRate(at: losses.count)
                loss.backward()
                optimizer.step()
                optimizer.zeroGrad()
                losses.append(loss.item)
                progress(TrainingProgress(step: losses.count, totalSteps: total, epoch: epoch, loss: loss.item,
                                          inBatchAccuracy: 0, learningRate: optimizer.learningRate))
            }
        }
        return DistillationReport(steps: losses.count, losses: losses, heldOutCosineBefore: before,
                                  heldOutCosineAfter: try meanCosine(heldOut), seconds: Date().timeIntervalSince(started))
    }

    /// Mean cosine between the student's and the teacher's embeddings of `texts` (1 when empty).
    public func meanCosine(_ texts: [String]) throws -> Float {
        guard !texts.isEmpty else { return 1 }
        let s = try student.encode(texts, batchSize: config.batchSize), t = try teacher.encode(texts, batchSize: config.batchSize)
        var total: Double = 0
        for (a, b) in zip(s, t) {
            var dot: Double = 0, na: Double = 0, nb: Double = 0
            for i in a.indices { dot += Double(a[i] * b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
            total += dot / max((na * nb).squareRoot(), 1e-30)
        }
        return Float(total / Double(texts.count))
    }
}
