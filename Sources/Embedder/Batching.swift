/// Index batches of at most `batchSize` inputs, longest first, so each batch pads to a similar
/// length; callers put results back by index.
struct LengthBatches: Sequence {
    let batches: [[Int]]

    init(lengths: [Int], batchSize: Int) {
        let order = lengths.indices.sorted { (lengths[$0], $1) > (lengths[$1], $0) }   // stable, longest first
        batches = stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<Swift.min($0 + batchSize, order.count)]) }
    }

    func makeIterator() -> IndexingIterator<[[Int]]> { batches.makeIterator() }
}

/// Token rows padded to the longest: ids [B * T] row-major, each row's real length.
struct PaddedBatch {
    let ids: [Int]
    let lengths: [Int]
    let length: Int

    init(_ rows: [[Int]], padID: Int) {
        length = Swift.max(1, rows.map(\.count).max() ?? 1)
        lengths = rows.map { Swift.max($0.count, 1) }
        var ids = [Int](repeating: padID, count: rows.count * length)
        for (r, row) in rows.enumerated() {
            for (j, id) in row.enumerated() { ids[r * length + j] = id }
        }
        self.ids = ids
    }
}
