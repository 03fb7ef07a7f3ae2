// Text classification as fine-tuning: each {"text", "label"} (JSONL, or CSV rows text,label) is a
// chat whose assistant reply is the label, so SFT learns it as the label's completion. Evaluation
// picks, for each held-out text, the known label the model gives the highest log-probability (summed
// over the label's tokens and its closing <|im_end|>), and reports accuracy and macro-F1.

import Foundation
import Tensor
import Tokenizers

enum ClassificationData {
    /// The record's label as text (a string, or a number as written).
    static func label(_ r: DataRecord) throws -> String {
        guard let value = r.object["label"], !(value is NSNull) else { throw r.fail("label", "is missing (no label column)") }
        if let s = value as? String {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !t.isEmpty else { throw r.fail("label", "is empty") }
            return t
        }
        if let n = value as? NSNumber { return n.stringValue }
        throw r.fail("label", "must be a string or a number")
    }
}

public struct ClassificationReport: Sendable {
    public var examples: Int
    public var labels: [String]
    public var accuracy: Double
    public var macroF1: Double
    /// F1 of each label, in `labels` order.
    public var f1: [Double]
}

extension Finetune {
    /// Accuracy and macro-F1 on the held-out split (`evalSplit` and `seed` as in training; every
    /// example when `evalSplit` is 0), choosing among the labels seen in the data.
    public static func evaluateClassification(model: LlamaModel, adapter: URL?, data: URL, evalSplit: Double, seed: UInt64,
                                              maxLength: Int = 1024) throws -> ClassificationReport {
        let records = try DataRecords.read(data)
        guard try ChatDataFormat.detect(records[0]) == .classification else {
            throw TrainingError.data("\(data.lastPathComponent): not classification data (expected text,label rows or {\"text\", \"label\"} records)")
        }
        let examples = try records.map { r in (text: try r.string("text"), label: try ClassificationData.label(r)) }
        let labels = Array(Set(examples.map(\.label))).sorted()
        guard labels.count >= 2 else { throw TrainingError.data("\(data.lastPathComponent): needs at least two labels, found \(labels)") }
        guard evalSplit >= 0, evalSplit < 1 else { throw TrainingError.options("--eval-split must be in [0, 1)") }
        let items = evalSplit > 0 ? FinetuneLoop.split(count: examples.count, fraction: evalSplit, seed: seed).eval : Array(examples.indices)
        let trainable = TrainableLlama(model)
        if let adapter { try trainable.startFrom(adapter: adapter, dropout: 0, seed: seed) }
        trainable.setTraining(false)
        let pad = model.tokenizer.special.padding ?? model.tokenizer.special.eos ?? 0
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: labels.count), count: labels.count)   // [truth][predicted]
        try noGrad {
            for i in items {
                let sequences = try labels.map { label -> TokenSequence in
                    let e = try model.chatTemplate.encode([ChatMessage(role: "user", content: examples[i].text),
                                                           ChatMessage(role: "assistant", content: label)],
                                                          tokenizer: model.tokenizer, addGenerationPrompt: false)
                    var s = TokenSequence(ids: e.ids, isTarget: e.isAssistant.enumerated().map { $0.offset > 0 && $0.element })
                    _ = s.cut(to: maxLength)
                    return s
                }
                let batch = PaddedBatch(sequences, padID: pad)
                let logp = try trainable.targetLogProbs(batch.ids, targets: batch.targets, batch: batch.batch, length: batch.length).toArray()
                let scores = (0..<labels.count).map { r in
                    (r * batch.length..<(r + 1) * batch.length).reduce(0.0) { batch.targets[$1] == -100 ? $0 : $0 + Double(logp[$1]) }
                }
                let predicted = scores.indices.max { scores[$0] < scores[$1] } ?? 0
                let truth = labels.firstIndex(of: examples[i].label) ?? 0
                confusion[truth][predicted] += 1
            }
        }
        let correct = labels.indices.reduce(0) { $0 + confusion[$1][$1] }
        let f1 = labels.indices.map { k -> Double in
            let tp = Double(confusion[k][k])
            let predicted = Double(labels.indices.reduce(0) { $0 + confusion[$1][k] }), actual = Double(confusion[k].reduce(0, +))
            return predicted + actual == 0 ? 0 : 2 * tp / (predicted + actual)
        }
        return ClassificationReport(examples: items.count, labels: labels, accuracy: Double(correct) / Double(max(items.count, 1)),
                                    macroF1: f1.reduce(0, +) / Double(labels.count), f1: f1)
    }
}
