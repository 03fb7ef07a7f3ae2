import Tensor

/// The batches of one epoch: pairs shuffled with the seed, then packed so that no text (query,
/// positive or negative) appears twice in a batch — a duplicate would be a false negative.
/// Pairs that do not fit are carried to the next batch; a batch of one pair is dropped.
func planBatches(_ pairs: [TrainingPair], batchSize: Int, seed: UInt64, epoch: Int) -> [[Int]] {
    var rng = TensorRNG(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    var order = Array(pairs.indices)
    for i in stride(from: order.count - 1, to: 0, by: -1) {      // Fisher–Yates
        order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
    }
    var batches: [[Int]] = []
    var pending = order
    while !pending.isEmpty {
        var batch: [Int] = [], seen = Set<String>(), carried: [Int] = []
        for i in pending {
            let texts = [pairs[i].query, pairs[i].positive] + (pairs[i].negative.map { [$0] } ?? [])
            if batch.count < batchSize && Set(texts).count == texts.count && seen.isDisjoint(with: texts) {
                batch.append(i); seen.formUnion(texts)
            } else {
                carried.append(i)
            }
        }
        if batch.count >= 2 { batches.append(batch) }   // a lone pair has no negatives: dropped
        pending = carried                                // shorter by at least the batch's first pair
    }
    return batches
}
