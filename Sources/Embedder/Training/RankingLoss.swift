import Tensor

/// Multiple-negatives ranking loss (Henderson et al., 2017; sentence-transformers'
/// MultipleNegativesRankingLoss): query i's positive is document i, every other document in the
/// batch (other positives, then hard negatives) is a negative.
///   S = scale * cos(q_i, d_j)             // [B, B + Bn]
///   loss = mean_i -log softmax(S_i)[i]
/// Also returns how many queries rank their own positive first (in-batch accuracy).
func multipleNegativesRankingLoss(queries: Tensor, documents: Tensor, scale: Float) throws -> (loss: Tensor, correct: Int) {
    let b = queries.shape[0]
    let q = try queries.l2NormalizedRows(), d = try documents.l2NormalizedRows()   // [B, C], [B + Bn, C]
    let scores = try q.matmul(try d.transpose(0, 1)) * scale                         // [B, B + Bn]
    let loss = try scores.crossEntropy(targets: Array(0..<b))
    let n = scores.shape[1]
    let values = scores.toArray()
    var correct = 0
    for i in 0..<b {
        let row = values[(i * n)..<((i + 1) * n)]
        if let best = row.indices.max(by: { row[$0] < row[$1] }), best - i * n == i { correct += 1 }
    }
    return (loss, correct)
}
