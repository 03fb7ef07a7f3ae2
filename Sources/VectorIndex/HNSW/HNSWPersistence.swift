import CSQLite
import SeededRandom

/// The graph in the knowledge base's SQLite file:
///   vector_index_meta(key, value): parameters, entry point, top level, slot count, generator state;
///   vector_index_node(slot, label, level, vector, links): one row per node, `vector` = D little-endian
///   Float32, `links` = for each layer 0…level: count, then count neighbour slots (little-endian Int32).
/// Rows are keyed by slot, so loading copies them into place without recomputing anything.
extension HNSWIndex {
    static let formatVersion: Int64 = 1

    public static let schema = """
        CREATE TABLE IF NOT EXISTS vector_index_meta(
            key TEXT PRIMARY KEY NOT NULL,
            value NOT NULL
        );
        CREATE TABLE IF NOT EXISTS vector_index_node(
            slot INTEGER PRIMARY KEY,
            label INTEGER NOT NULL UNIQUE,
            level INTEGER NOT NULL,
            vector BLOB NOT NULL,
            links BLOB NOT NULL
        );
        """

    public static func createTables(in db: Database) throws { try db.execute(schema) }

    /// Runs `body` (inserts/removes on this index) and writes the changed nodes on `db`, inside the
    /// caller's open `db.transaction { }` (or a transaction of its own if none is open). If that
    /// transaction rolls back — or `body` or the write throws — the in-memory graph is restored
    /// from an undo log, so memory and disk stay equal. One writer at a time.
    public func update<T>(in db: Database, _ body: (HNSWIndex) throws -> T) throws -> T {
        guard db.hasTransactionScope else { return try db.transaction { try update(in: db, body) } }
        try lock.write {
            guard changeSet == nil else { throw VectorIndexError.invalidParameter("update(in:) is already running") }
            changeSet = ChangeSet(index: self)
        }
        do {
            let result = try body(self)
            let undo = try lock.write { () throws -> ChangeSet? in
                try writeLocked(db)
                defer { changeSet = nil }
                return changeSet
            }
            if let undo {
                try db.onEnd(commit: {}, rollback: { [self] in lock.write { undo.undo(self) } })
            }
            return result
        } catch {
            lock.write {
                changeSet?.undo(self)
                changeSet = nil
            }
            throw error
        }
    }

    /// Writes every node (replacing what the tables held), in the caller's transaction.
    public func save(to db: Database) throws {
        try update(in: db) { index in index.lock.write { index.needsFullWrite = true } }
    }

    private func writeLocked(_ db: Database) throws {
        try Self.createTables(in: db)
        if needsFullWrite {
            try db.execute("DELETE FROM vector_index_node")
            var rows = try NodeRowWriter(graph: graph, db: db, replacing: false)
            for slot in 0..<Int32(graph.slotCount) where graph.levels[Int(slot)] >= 0 { try rows.insert(slot) }
        } else {
            var rows = try NodeRowWriter(graph: graph, db: db, replacing: true)
            let slots = dirty.sorted()
            // Deletions first: a label may have moved to another slot in the same change set.
            for slot in slots where !graph.isAlive(slot) { try rows.delete(slot) }
            for slot in slots where graph.isAlive(slot) {
                if storedWithSameLabel(slot) { try rows.rewrite(slot) } else { try rows.insert(slot) }
            }
        }
        let meta: [(String, SQLValue)] = [
            ("format_version", .integer(Self.formatVersion)),
            ("dimension", .integer(Int64(dimension))),
            ("metric", .text(metric.rawValue)),
            ("M", .integer(Int64(parameters.M))),
            ("ef_construction", .integer(Int64(parameters.efConstruction))),
            ("ef_search", .integer(Int64(parameters.efSearch))),
            ("seed", .integer(Int64(bitPattern: parameters.seed))),
            ("keep_pruned_connections", .integer(parameters.keepPrunedConnections ? 1 : 0)),
            ("entry_point", .integer(Int64(graph.entryPoint))),
            ("max_level", .integer(Int64(graph.maxLevel))),
            ("slot_count", .integer(Int64(graph.slotCount))),
            ("generator_state", .integer(Int64(bitPattern: generator.state))),
        ]
        let setMeta = try db.prepare("INSERT OR REPLACE INTO vector_index_meta(key, value) VALUES (?, ?)")
        for (key, value) in meta { try setMeta.bind(1, key).bind(2, value).run() }
        dirty = []
        needsFullWrite = false
    }

    /// True when the stored row of `slot` is known to carry the label the slot has now: the slot
    /// was written before this change set (not dirty at its start) and held this label then.
    private func storedWithSameLabel(_ slot: Int32) -> Bool {
        guard let changeSet, !changeSet.dirty.contains(slot), let before = changeSet.nodes[slot] else { return false }
        return before.level >= 0 && before.label == graph.labels[Int(slot)]
    }

    /// Loads the index stored in `db`, or nil when the database holds none.
    public static func load(from db: Database) throws -> HNSWIndex? {
        let hasTable = try db.query(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'vector_index_meta'") { $0.int(0) }
        guard hasTable.first == 1 else { return nil }
        var meta: [String: SQLValue] = [:]
        let stmt = try db.prepare("SELECT key, value FROM vector_index_meta")
        while try stmt.step() {
            guard let key = stmt.string(0) else { continue }
            meta[key] = sqlite3_column_type(stmt.handle, 1) == SQLITE_TEXT ? .text(stmt.string(1) ?? "") : .integer(stmt.int64(1))
        }
        guard !meta.isEmpty else { return nil }
        func int(_ key: String) throws -> Int64 {
            guard case .integer(let v) = meta[key] else { throw VectorIndexError.corruptStore("meta key '\(key)' missing") }
            return v
        }
        guard try int("format_version") == formatVersion else {
            throw VectorIndexError.corruptStore("format_version \(try int("format_version")) is not \(formatVersion)")
        }
        guard case .text(let metricName) = meta["metric"], let metric = Metric(rawValue: metricName) else {
            throw VectorIndexError.corruptStore("meta key 'metric' missing or unknown")
        }
        let parameters = HNSWParameters(
            M: Int(try int("M")), efConstruction: Int(try int("ef_construction")),
            efSearch: Int(try int("ef_search")), seed: UInt64(bitPattern: try int("seed")),
            keepPrunedConnections: try int("keep_pruned_connections") != 0)
        let slotCount = Int(try int("slot_count"))
        let index = try HNSWIndex(dimension: Int(try int("dimension")), metric: metric,
                                  parameters: parameters, capacity: slotCount, hugePages: false)
        try index.loadNodes(from: db, slotCount: slotCount)
        index.graph.adviseHugePages()
        index.graph.entryPoint = Int32(try int("entry_point"))
        index.graph.maxLevel = Int(try int("max_level"))
        index.generator = SplitMix64(seed: UInt64(bitPattern: try int("generator_state")))
        guard index.graph.entryPoint == -1 || index.graph.isAlive(index.graph.entryPoint) else {
            throw VectorIndexError.corruptStore("entry point \(index.graph.entryPoint) is not a stored node")
        }
        index.dirty = []
        index.needsFullWrite = false
        return index
    }

    private func loadNodes(from db: Database, slotCount: Int) throws {
        let g = graph
        g.reserve(slotCount)
        g.slotCount = slotCount
        g.levels = [Int32](repeating: -1, count: slotCount)
        g.labels = [Int64](repeating: 0, count: slotCount)
        g.upper = [[Int32]](repeating: [], count: slotCount)
        g.slotOfLabel.reserveCapacity(slotCount)
        let stmt = try db.prepare("SELECT slot, label, level, vector, links FROM vector_index_node")
        let vectorBytes = dimension * 4
        while try stmt.step() {
            let slot = stmt.int(0), label = stmt.int64(1), level = stmt.int(2)
            guard slot >= 0, slot < slotCount, level >= 0, level <= 64 else {
                throw VectorIndexError.corruptStore("node row slot \(slot) level \(level) out of range")
            }
            let vector = stmt.bytes(3)
            guard vector.count == vectorBytes else {
                throw VectorIndexError.corruptStore("slot \(slot): vector has \(vector.count) bytes, expected \(vectorBytes)")
            }
            let dst = UnsafeMutableRawPointer(g.vector(Int32(slot)))
            dst.copyMemory(from: vector.baseAddress!, byteCount: vectorBytes)
            #if !_endian(little)
            for i in 0..<dimension { g.vector(Int32(slot))[i] = Float(bitPattern: UInt32(littleEndian: g.vector(Int32(slot))[i].bitPattern)) }
            #endif
            g.occupy(Int32(slot), level: level)
            g.labels[slot] = label
            g.slotOfLabel[label] = Int32(slot)
            try decodeLinks(stmt.bytes(4), slot: Int32(slot), level: level, slotCount: slotCount)
        }
        g.freeSlots = (0..<slotCount).reversed().compactMap { g.levels[$0] < 0 ? Int32($0) : nil }
    }

    private func decodeLinks(_ raw: UnsafeRawBufferPointer, slot: Int32, level: Int, slotCount: Int) throws {
        let n = raw.count / 4
        func at(_ i: Int) throws -> Int32 {
            guard i < n else { throw VectorIndexError.corruptStore("slot \(slot): links BLOB too short") }
            return Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))
        }
        var i = 0
        for l in 0...level {
            let count = Int(try at(i))
            guard count >= 0, count <= parameters.maxLinks(level: l) else {
                throw VectorIndexError.corruptStore("slot \(slot) layer \(l): \(count) links")
            }
            var ids = [Int32](repeating: 0, count: count)
            for j in 0..<count {
                let id = try at(i + 1 + j)
                guard id >= 0, Int(id) < slotCount else {
                    throw VectorIndexError.corruptStore("slot \(slot) layer \(l): neighbour \(id) out of range")
                }
                ids[j] = id
            }
            graph.setLinks(slot, level: l, ids)
            i += 1 + count
        }
    }
}
