extension HNSWIndex {
    /// Inserts `vector` under `label` (Algorithm 1). Throws if the label exists or the vector is
    /// malformed; a freed slot is reused before the buffers grow.
    public func insert(_ vector: [Float], label: Int64) throws {
        try vector.withUnsafeBufferPointer { try insert($0, label: label) }
    }

    public func insert(_ vector: UnsafeBufferPointer<Float>, label: Int64) throws {
        try lock.write {
            guard graph.slotOfLabel[label] == nil else { throw VectorIndexError.duplicateLabel(label) }
            try scratchPool.withScratch(capacity: graph.slotCount + 1) { scratch in
                try prepare(vector, label: label, into: scratch.query)
                insertLocked(scratch.query, label: label, scratch: scratch)
            }
        }
    }

    private func insertLocked(_ v: UnsafePointer<Float>, label: Int64, scratch: SearchScratch) {
        let level = generator.level(mL: parameters.mL)
        let slot = graph.allocateSlot(level: level)
        changeSet?.recordAllocated(slot)
        dirty.insert(slot)
        graph.vector(slot).update(from: v, count: dimension)
        graph.labels[Int(slot)] = label
        graph.slotOfLabel[label] = slot

        guard graph.entryPoint >= 0 else {
            graph.entryPoint = slot
            graph.maxLevel = level
            return
        }
        let q = UnsafePointer(graph.vector(slot))
        var ep = graph.entryPoint
        if level < graph.maxLevel {
            ep = greedyClosest(q, entry: ep, fromLevel: graph.maxLevel, downTo: level + 1, scratch: scratch)
        }
        for lc in stride(from: min(level, graph.maxLevel), through: 0, by: -1) {
            searchLayer(q, entry: ep, ef: parameters.efConstruction, level: lc, scratch: scratch, accept: nil)
            let w = scratch.results.drainAscending()
            let neighbours = selectNeighbours(candidates: w, m: parameters.M)
            graph.setLinks(slot, level: lc, neighbours)
            for e in neighbours { connect(e, to: slot, level: lc) }
            if let closest = w.first { ep = closest.id }
        }
        if level > graph.maxLevel {
            graph.entryPoint = slot
            graph.maxLevel = level
        }
    }

    /// Adds the link e → newNode at `level`, shrinking e's list with the heuristic when it is full.
    private func connect(_ e: Int32, to newNode: Int32, level: Int) {
        changeSet?.record(e, graph: graph)
        dirty.insert(e)
        if graph.appendLink(e, level: level, newNode) { return }
        var candidates = graph.links(e, level: level)
        candidates.append(newNode)
        let shrunk = selectNeighbours(of: e, among: candidates, m: parameters.maxLinks(level: level))
        graph.setLinks(e, level: level, shrunk)
    }

    /// Algorithm 4 for a base node: distances from `base` to `among`, sorted, then the heuristic.
    func selectNeighbours(of base: Int32, among: [Int32], m: Int) -> [Int32] {
        let b = UnsafePointer(graph.vector(base))
        var scored = among.map { Neighbor(distance: distance(b, graph.vector($0)), id: $0) }
        scored.sort { $0.distance < $1.distance }
        return selectNeighbours(candidates: scored, m: m)
    }

    /// Algorithm 4 (SELECT-NEIGHBORS-HEURISTIC) over candidates sorted by ascending distance to the
    /// base: keep e if it is closer to the base than to every neighbour kept so far; with
    /// keepPrunedConnections, fill up to m with the discarded ones in order.
    func selectNeighbours(candidates: [Neighbor], m: Int) -> [Int32] {
        if candidates.count <= m { return candidates.map(\.id) }
        var kept: [Int32] = []
        kept.reserveCapacity(m)
        var pruned: [Int32] = []
        for c in candidates {
            if kept.count >= m { break }
            let cv = UnsafePointer(graph.vector(c.id))
            var good = true
            for r in kept where distance(cv, graph.vector(r)) < c.distance {
                good = false
                break
            }
            if good { kept.append(c.id) } else if parameters.keepPrunedConnections { pruned.append(c.id) }
        }
        if parameters.keepPrunedConnections {
            for p in pruned where kept.count < m { kept.append(p) }
        }
        return kept
    }
}
