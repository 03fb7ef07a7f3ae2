import Foundation
import SeededRandom
import VectorIndex

/// Save, incremental update and open of a persisted 100k × 384 index (MiniLM's dimension), beside a
/// peer: the same number of rows of the same sizes written by plain prepared inserts (SQLite copies
/// each bound BLOB) into an identical table in a fresh file, in one transaction, in the same run. The graph
/// is built quickly with a small efConstruction: writing and opening do not depend on its quality.
/// Times are wall seconds (the work is mostly SQLite's file I/O), each the best of `repeats`; save
/// and peer also in thread CPU seconds (SQLite's writes and checkpoint run on this thread).
func persistence100k(repeats: Int = 3) throws {
    let n = 100_000, dim = 384
    var random = SplitMix64(seed: 5)
    func next() -> Float { Float(random.next() >> 40) / Float(1 << 24) - 0.5 }
    let index = try HNSWIndex(dimension: dim, metric: .cosine, parameters: HNSWParameters(M: 16, efConstruction: 16), capacity: n)
    let t0 = Date()
    for i in 0..<n { try index.insert((0..<dim).map { _ in next() }, label: Int64(i)) }
    let build = Date().timeIntervalSince(t0)
    let extra = (0..<200).map { _ in (0..<dim).map { _ in next() } }

    let dir = NSTemporaryDirectory() + "bench-ann-100k-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var cpu: [String: Double] = [:]
    func timed(_ name: String = "", _ body: () throws -> Void) rethrows -> Double {
        let t = Date(), c = now()
        try body()
        cpu[name] = min(cpu[name] ?? .infinity, now() - c)
        return Date().timeIntervalSince(t)
    }
    func best(_ body: (Int) throws -> Double) rethrows -> Double { try (0..<repeats).map(body).min() ?? 0 }

    // Ours: full save into a new file (closing the connection checkpoints the WAL: part of the cost).
    let save = try best { r in
        try timed("save") { let db = try Database(path: "\(dir)/save\(r).db"); try db.transaction { try index.save(to: db) } }
    }
    let path = "\(dir)/save0.db"
    // Peer: the same rows' sizes (vector, links of an average node) by plain inserts, same schema.
    let linkBytes = Int(try Database(path: path, mode: .readOnly)
        .query("SELECT avg(length(links)) FROM vector_index_node") { $0.double(0) }.first ?? 0)
    let peer = try best { r in
        try timed("peer") {
            let db = try Database(path: "\(dir)/peer\(r).db")
            try db.execute(HNSWIndex.schema)
            let vector = [Float](repeating: 0.25, count: dim), links = [UInt8](repeating: 1, count: linkBytes)
            try db.transaction {
                let insert = try db.prepare("INSERT INTO vector_index_node(slot, label, level, vector, links) VALUES (?, ?, ?, ?, ?)")
                try links.withUnsafeBytes { raw in
                    for i in 0..<n {
                        try insert.bind(1, Int64(i)).bind(2, Int64(i)).bind(3, Int64(0)).bind(4, floats: vector).bind(5, bytes: raw).run()
                    }
                }
            }
        }
    }
    // Re-save into the file that holds the graph (every row replaced).
    let resave = try best { _ in try timed { let db = try Database(path: path); try db.transaction { try index.save(to: db) } } }
    // Incremental: 100 inserts, then 100 deletes, each one update(in:) transaction.
    let db = try Database(path: path)
    var inserted: [Double] = [], removed: [Double] = []
    for r in 0..<repeats {
        let labels = (0..<100).map { Int64(n + r * 100 + $0) }
        inserted.append(try timed { try index.update(in: db) { ix in for (l, v) in zip(labels, extra) { try ix.insert(v, label: l) } } })
        removed.append(try timed { try index.update(in: db) { ix in try ix.remove(labels: labels) } })
    }
    let open = try best { _ in try timed { _ = try HNSWIndex.load(from: Database(path: path, mode: .readOnly)) } }
    let reopened = try HNSWIndex.load(from: Database(path: path, mode: .readOnly))

    print("100k × 384 cosine (efConstruction 16, build \(fmt(build)) s), best of \(repeats), wall s, load \(loadAverage()):")
    print("  save to a new file \(fmt(save)) s; plain inserts of same-size rows \(fmt(peer)) s; ratio save/plain \(fmt(save / peer))")
    if let c = cpu["save"], let p = cpu["peer"] { print("  thread CPU: save \(fmt(c)) s, plain inserts \(fmt(p)) s; ratio \(fmt(c / p))") }
    print("  re-save over the stored graph \(fmt(resave)) s")
    print("  update(in:) 100 inserts \(fmt(inserted.min() ?? 0)) s, 100 deletes \(fmt(removed.min() ?? 0)) s")
    print("  open \(fmt(open)) s, \(reopened?.count ?? 0) nodes, file \(fileMB(path)) MB")
}
