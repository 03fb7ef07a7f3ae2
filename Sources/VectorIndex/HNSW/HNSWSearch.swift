import CKernels

extension HNSWIndex {
    /// Greedy descent (SEARCH-LAYER with ef = 1) from `fromLevel` down to `downTo`, inclusive.
    func greedyClosest(_ q: UnsafePointer<Float>, entry: Int32, fromLevel: Int, downTo: Int,
                       scratch: SearchScratch) -> Int32 {
        var current = entry
        var best = distance(q, graph.vector(entry))
        let ids = scratch.gatherIDs, dists = scratch.gatherDistances
        var level = fromLevel
        while level >= downTo {
            var changed = true
            while changed {
                changed = false
                let n = graph.withLinks(current, level: level) { links -> Int in
                    for (i, id) in links.enumerated() { ids[i] = id }
                    return links.count
                }
                distance.gather(q, base: graph.vector(0), stride: graph.nodeBytes, ids: ids, count: n, into: dists)
                for i in 0..<n where dists[i] < best {
                    best = dists[i]
                    current = ids[i]
                    changed = true
                }
            }
            level -= 1
        }
        return current
    }

    /// Algorithm 2 (SEARCH-LAYER) with hnswlib's stopping rule. Leaves the ef nearest nodes that
    /// `accept` allows in `scratch.results` (a max-heap); the walk itself goes through every node.
    func searchLayer(_ q: UnsafePointer<Float>, entry: Int32, ef: Int, level: Int, scratch: SearchScratch,
                     accept: ((Int32) -> Bool)?) {
        scratch.begin(capacity: graph.slotCount)
        // Local copies: no exclusivity checks on class properties inside the loop.
        var candidates = scratch.candidates
        var results = scratch.results
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        let visited = scratch.visited, tag = scratch.tag
        let ids = scratch.gatherIDs, dists = scratch.gatherDistances
        let base = UnsafeRawPointer(graph.vector(0)), stride = graph.nodeBytes

        let d0 = distance(q, graph.vector(entry))
        visited[Int(entry)] = tag
        candidates.push(-d0, entry)
        if accept?(entry) ?? true { results.push(d0, entry) }
        var lowerBound = results.isEmpty ? Float.infinity : results.top.distance

        while !candidates.isEmpty {
            let c = candidates.top
            if -c.distance > lowerBound && results.count >= ef { break }
            candidates.pop()
            // The next candidate's list is needed after this one's distances: ask for it now.
            if level == 0 && !candidates.isEmpty { ck_prefetch(graph.level0Row(candidates.top.id)) }
            let n = graph.withLinks(c.id, level: level) { links -> Int in
                var n = 0
                for id in links where visited[Int(id)] != tag {
                    visited[Int(id)] = tag
                    ids[n] = id
                    n += 1
                }
                return n
            }
            if n == 0 { continue }
            distance.gather(q, base: base, stride: stride, ids: ids, count: n, into: dists)
            for i in 0..<n {
                let d = dists[i]
                guard results.count < ef || d < lowerBound else { continue }
                candidates.push(-d, ids[i])
                if accept?(ids[i]) ?? true {
                    results.push(d, ids[i])
                    if results.count > ef { results.pop() }
                    lowerBound = results.top.distance
                }
            }
        }
    }

    /// The k nearest labels to `query` (Algorithm 5). `efSearch` overrides the default per query.
    /// With a filter, never returns fewer than k hits when k allowed labels exist: small allowed
    /// sets go to exact search, otherwise ef grows until k allowed hits are found (falling back
    /// to exact search if the graph walk cannot reach them).
    public func search(_ query: [Float], k: Int, efSearch: Int? = nil,
                       filter: SearchFilter? = nil) throws -> [NearestNeighbour] {
        try query.withUnsafeBufferPointer { try search($0, k: k, efSearch: efSearch, filter: filter) }
    }

    public func search(_ query: UnsafeBufferPointer<Float>, k: Int, efSearch: Int? = nil,
                       filter: SearchFilter? = nil) throws -> [NearestNeighbour] {
        guard k > 0 else { return [] }
        return try lock.read {
            try scratchPool.withScratch(capacity: graph.slotCount) { scratch in
                try prepare(query, label: nil, into: scratch.query)
                let q = UnsafePointer(scratch.query)
                guard graph.entryPoint >= 0 else { return [] }
                var ef = max(efSearch ?? parameters.efSearch, k)
                guard let filter else { return searchLocked(q, k: k, ef: ef, scratch: scratch, accept: nil) }

                if case .labels(let allowed) = filter, allowed.count <= exactSearchThreshold(k: k) {
                    return exactSearchLocked(q, k: k, filter: filter)
                }
                let labels = graph.labels
                let accept: (Int32) -> Bool = { filter.allows(labels[Int($0)]) }
                while true {
                    let hits = searchLocked(q, k: k, ef: ef, scratch: scratch, accept: accept)
                    if hits.count >= k { return hits }
                    if ef >= graph.count { return exactSearchLocked(q, k: k, filter: filter) }
                    ef = min(ef * 4, graph.count)
                }
            }
        }
    }

    /// Allowed sets this small are searched exactly: cheaper than a graph walk that must skip
    /// almost every node it visits.
    func exactSearchThreshold(k: Int) -> Int { max(2_000, graph.count / 50, 4 * k) }

    func searchLocked(_ q: UnsafePointer<Float>, k: Int, ef: Int, scratch: SearchScratch,
                      accept: ((Int32) -> Bool)?) -> [NearestNeighbour] {
        let ep = greedyClosest(q, entry: graph.entryPoint, fromLevel: graph.maxLevel, downTo: 1, scratch: scratch)
        searchLayer(q, entry: ep, ef: ef, level: 0, scratch: scratch, accept: accept)
        while scratch.results.count > k { scratch.results.pop() }
        return scratch.results.drainAscending().map { NearestNeighbour(label: graph.labels[Int($0.id)], distance: $0.distance) }
    }
}
