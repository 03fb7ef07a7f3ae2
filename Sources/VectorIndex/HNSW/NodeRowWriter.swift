/// Writes graph nodes as rows of `vector_index_node` (layout in HNSWPersistence.swift) with
/// statements prepared once per save. The vector is bound in place from the graph's memory and
/// the links from one reused buffer, so a row costs no allocation and no copy on our side.
struct NodeRowWriter {
    private let graph: HNSWGraph
    private let insertRow: Statement
    private let updateRow: Statement
    private let deleteRow: Statement
    /// [count, ids…] per layer 0…level of the node being written.
    private var links: [Int32] = []

    /// `replacing`: rows of other slots may hold the labels written (INSERT OR REPLACE); false
    /// after the table was emptied (plain INSERT).
    init(graph: HNSWGraph, db: Database, replacing: Bool) throws {
        self.graph = graph
        insertRow = try db.prepare((replacing ? "INSERT OR REPLACE" : "INSERT")
            + " INTO vector_index_node(slot, label, level, vector, links) VALUES (?, ?, ?, ?, ?)")
        updateRow = try db.prepare("UPDATE vector_index_node SET level = ?, vector = ?, links = ? WHERE slot = ?")
        deleteRow = try db.prepare("DELETE FROM vector_index_node WHERE slot = ?")
        links.reserveCapacity(1 + graph.M0 + 8 * graph.upperStride)
    }

    /// Writes the whole row of `slot`.
    mutating func insert(_ slot: Int32) throws {
        let level = Int(graph.levels[Int(slot)])
        try insertRow.bind(1, Int64(slot)).bind(2, graph.labels[Int(slot)]).bind(3, Int64(level))
        try bindBlobs(of: slot, level: level, vector: 4, links: 5, in: insertRow)
    }

    /// Rewrites the row of `slot`, which is stored with the label it has now: the label's index
    /// entry is left alone (INSERT OR REPLACE would delete and re-insert it). Writes the whole row
    /// if no row was there after all.
    mutating func rewrite(_ slot: Int32) throws {
        let level = Int(graph.levels[Int(slot)])
        try updateRow.bind(1, Int64(level)).bind(4, Int64(slot))
        try bindBlobs(of: slot, level: level, vector: 2, links: 3, in: updateRow)
        if updateRow.database.changes == 0 { try insert(slot) }
    }

    func delete(_ slot: Int32) throws { try deleteRow.bind(1, Int64(slot)).run() }

    /// Binds the vector and the encoded links of `slot` without copies and runs `stmt`.
    private mutating func bindBlobs(of slot: Int32, level: Int, vector: Int32, links linksIndex: Int32,
                                    in stmt: Statement) throws {
        links.removeAll(keepingCapacity: true)
        for l in 0...level {
            graph.withLinks(slot, level: l) { ids in
                links.append(Int32(ids.count).littleEndian)
                for id in ids { links.append(id.littleEndian) }
            }
        }
        let floats = UnsafeBufferPointer(start: graph.vector(slot), count: graph.dimension)
        #if _endian(little)
        try stmt.bind(vector, borrowing: UnsafeRawBufferPointer(floats))
        #else
        try stmt.bind(vector, floats: floats)  // swapped copy
        #endif
        try links.withUnsafeBytes { raw in
            try stmt.bind(linksIndex, borrowing: raw)
            try stmt.run()
        }
    }
}
