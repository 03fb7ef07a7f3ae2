extension HNSWIndex {
    /// Removes `label`; see `remove(labels:)`.
    public func remove(_ label: Int64) throws { try remove(labels: [label]) }

    /// Removes labels and repairs the graph: every node that linked to a removed node gets a new
    /// list chosen by the heuristic from its remaining neighbours plus the removed nodes' neighbours.
    /// The entry point and top level are fixed and the slots are freed for reuse. Throws (changing
    /// nothing) if a label is unknown.
    public func remove(labels: some Collection<Int64>) throws {
        try lock.write {
            var removed: Set<Int32> = []
            for label in labels {
                guard let slot = graph.slotOfLabel[label] else { throw VectorIndexError.unknownLabel(label) }
                removed.insert(slot)
            }
            guard !removed.isEmpty else { return }
            repairLinks(around: removed)
            for slot in removed.sorted(by: >) {
                changeSet?.record(slot, graph: graph)
                dirty.insert(slot)
                graph.release(slot)
            }
            if removed.contains(graph.entryPoint) { chooseNewEntryPoint() }
        }
    }

    private func repairLinks(around removed: Set<Int32>) {
        for slot in 0..<Int32(graph.slotCount) where graph.levels[Int(slot)] >= 0 && !removed.contains(slot) {
            for level in 0...Int(graph.levels[Int(slot)]) {
                let current = graph.links(slot, level: level)
                guard current.contains(where: removed.contains) else { continue }
                var candidates: [Int32] = []
                var seen: Set<Int32> = [slot]
                for n in current where !removed.contains(n) && seen.insert(n).inserted { candidates.append(n) }
                for gone in current where removed.contains(gone) {
                    for n in graph.links(gone, level: level) where !removed.contains(n) && seen.insert(n).inserted {
                        candidates.append(n)
                    }
                }
                changeSet?.record(slot, graph: graph)
                dirty.insert(slot)
                graph.setLinks(slot, level: level,
                               selectNeighbours(of: slot, among: candidates, m: parameters.maxLinks(level: level)))
            }
        }
    }

    private func chooseNewEntryPoint() {
        graph.entryPoint = -1
        graph.maxLevel = -1
        for slot in 0..<graph.slotCount where Int(graph.levels[slot]) > graph.maxLevel {
            graph.entryPoint = Int32(slot)
            graph.maxLevel = Int(graph.levels[slot])
        }
    }
}
