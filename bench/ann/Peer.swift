import Foundation
import SeededRandom
import VectorIndex

struct PeerResult {
    var buildSeconds: Double
    var sweep: [(ef: Int, recall: Double, qps: Double)]
}

/// Runs bench/ann/hnswlib_peer.py (hnswlib from PyPI) and parses its JSON line.
func runPeer(dataDir: String, M: Int, efConstruction: Int, efSweep: [Int], queries: Int,
             limit: Int) throws -> PeerResult {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("hnswlib_peer.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script, "--data", dataDir, "--M", "\(M)", "--efc", "\(efConstruction)",
                         "--ef", efSweep.map(String.init).joined(separator: ","), "--queries", "\(queries)", "--limit", "\(limit)"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
          let build = json["build_seconds"] as? Double, let sweep = json["sweep"] as? [[String: Any]] else {
        throw BenchError("hnswlib peer failed (exit \(process.terminationStatus)): \(String(decoding: data, as: UTF8.self))")
    }
    return PeerResult(buildSeconds: build, sweep: sweep.map {
        (($0["ef"] as? Int) ?? 0, ($0["recall"] as? Double) ?? 0, ($0["qps"] as? Double) ?? 0)
    })
}

/// For each of our points, hnswlib's q/s at the same recall (linear interpolation on its curve).
func equalRecall(_ ours: [(ef: Int, recall: Double, qps: Double)], _ theirs: [(ef: Int, recall: Double, qps: Double)]) {
    let curve = theirs.sorted { $0.recall < $1.recall }
    for p in ours {
        guard let hi = curve.firstIndex(where: { $0.recall >= p.recall }) else {
            print(String(format: "  recall %.4f: beyond hnswlib's best (%.4f)", p.recall, curve.last?.recall ?? 0)); continue
        }
        let qps: Double
        if hi == 0 || curve[hi].recall == p.recall { qps = curve[hi].qps } else {
            let lo = curve[hi - 1], h = curve[hi]
            let t = (p.recall - lo.recall) / (h.recall - lo.recall)
            qps = lo.qps + t * (h.qps - lo.qps)
        }
        print(String(format: "  recall %.4f: ours %7.0f q/s, hnswlib %7.0f q/s, ratio %.2f", p.recall, p.qps, qps, p.qps / qps))
    }
}

func fmt(_ x: Double) -> String { String(format: "%.3f", x) }

func fileMB(_ path: String) -> String {
    let size = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }.reduce(0, +)
    return String(format: "%.1f", Double(size) / 1e6)
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

/// Open time of a persisted 100k × 384 index (MiniLM's dimension). The graph is built quickly with a
/// small efConstruction: opening copies rows and does not depend on the graph's quality.
func openTime100k() throws {
    let n = 100_000, dim = 384
    var random = SplitMix64(seed: 5)
    func next() -> Float { Float(random.next() >> 40) / Float(1 << 24) - 0.5 }
    let index = try HNSWIndex(dimension: dim, metric: .cosine, parameters: HNSWParameters(M: 16, efConstruction: 16), capacity: n)
    let t0 = Date()
    for i in 0..<n { try index.insert((0..<dim).map { _ in next() }, label: Int64(i)) }
    let build = Date().timeIntervalSince(t0)
    let path = NSTemporaryDirectory() + "bench-ann-100k-\(getpid()).db"
    defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
    let t1 = Date()
    do {
        let db = try Database(path: path)
        try db.transaction { try index.save(to: db) }
    }
    let save = Date().timeIntervalSince(t1)
    let t2 = Date()
    let loaded = try HNSWIndex.load(from: Database(path: path, mode: .readOnly))
    let open = Date().timeIntervalSince(t2)
    print("100k × 384 cosine (efConstruction 16, build \(fmt(build)) s): save \(fmt(save)) s, open \(fmt(open)) s, "
          + "\(loaded?.count ?? 0) nodes, file \(fileMB(path)) MB")
}
