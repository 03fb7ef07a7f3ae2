extension HNSWIndex {
    /// What is wrong with the graph's structure (empty when it is sound): every link must lead to a
    /// node that exists and has the layer the link is on, and the entry point must be a node on the
    /// top layer. `load` already refuses links beyond the slot count; this also finds links to freed
    /// slots, which a search would follow into stale memory.
    public func structuralProblems(limit: Int = 20) -> [String] {
        lock.read {
            var problems: [String] = []
            func report(_ message: String) -> Bool {
                problems.append(message)
                return problems.count < limit
            }
            let g = graph
            if g.count > 0 {
                guard g.isAlive(g.entryPoint), Int(g.levels[Int(g.entryPoint)]) == g.maxLevel else {
                    return ["entry point \(g.entryPoint) is not a node on the top layer \(g.maxLevel)"]
                }
            }
            for slot in 0..<Int32(g.slotCount) where g.isAlive(slot) {
                for level in 0...Int(g.levels[Int(slot)]) {
                    for n in g.links(slot, level: level) where !g.isAlive(n) || Int(g.levels[Int(n)]) < level || n == slot {
                        guard report("slot \(slot) layer \(level): neighbour \(n) is not a node on that layer") else { return problems }
                    }
                }
            }
            return problems
        }
    }
}
