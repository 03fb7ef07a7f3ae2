import Foundation
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
