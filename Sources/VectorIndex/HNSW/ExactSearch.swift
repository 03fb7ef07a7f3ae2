extension HNSWIndex {
    /// Brute-force k nearest neighbours over every stored vector, on the same kernels: the
    /// reference for recall, and the fallback for small filtered sets.
    public func exactSearch(_ query: [Float], k: Int, filter: SearchFilter? = nil) throws -> [NearestNeighbour] {
        guard k > 0 else { return [] }
        return try lock.read {
            try scratchPool.withScratch(capacity: graph.slotCount) { scratch in
                try query.withUnsafeBufferPointer { try prepare($0, label: nil, into: scratch.query) }
                return exactSearchLocked(scratch.query, k: k, filter: filter)
            }
        }
    }

    func exactSearchLocked(_ q: UnsafePointer<Float>, k: Int, filter: SearchFilter?) -> [NearestNeighbour] {
        var heap = MaxHeap(capacity: k + 1)
        defer { heap.free() }
        func offer(_ slot: Int32, _ d: Float) {
            if heap.count < k { heap.push(d, slot) } else if d < heap.top.distance { heap.pop(); heap.push(d, slot) }
        }
        if case .labels(let allowed) = filter, allowed.count < graph.count {
            for label in allowed {
                guard let slot = graph.slotOfLabel[label] else { continue }
                offer(slot, distance(q, graph.vector(slot)))
            }
        } else {
            // One batch over the node blocks, in runs; free slots are skipped.
            let block = 4096
            let dists = UnsafeMutablePointer<Float>.allocate(capacity: block)
            defer { dists.deallocate() }
            var start = 0
            while start < graph.slotCount {
                let n = min(block, graph.slotCount - start)
                distance.batch(q, base: graph.vector(Int32(start)), stride: graph.nodeBytes, count: n, into: dists)
                for i in 0..<n where graph.levels[start + i] >= 0 {
                    let slot = Int32(start + i)
                    if let filter, !filter.allows(graph.labels[start + i]) { continue }
                    offer(slot, dists[i])
                }
                start += n
            }
        }
        return heap.drainAscending().map { NearestNeighbour(label: graph.labels[Int($0.id)], distance: $0.distance) }
    }
}
