// ANN benchmark: our HNSW against hnswlib on Fashion-MNIST (60k base, 1k queries, L2, 784-d),
// single thread, same M / efConstruction, in the same run. Run with
//   swift run -c release bench-ann [--data DIR] [--no-peer] [--open100k] [--limit N] [--build-only]
//                                  [--keep-pruned 1]   (keepPrunedConnections, off by default as in hnswlib)
import ArgumentParser
import Foundation
import VectorIndex

struct Options: ParsableArguments {
    @Option(help: "Folder with Fashion-MNIST's IDX files (gzipped or not).") var data = "/usr/share/datasets/fashion-mnist"
    @Option(name: .customLong("M"), help: "HNSW links per node.") var M = 16
    @Option(name: .customLong("efc"), help: "HNSW efConstruction.") var efConstruction = 200
    @Option(name: .customLong("keep-pruned"), help: "1 keeps pruned connections (hnswlib's default is 0).") var keepPruned = 0
    @Option(help: "Use only the first N base vectors (default: all).") var limit: Int?
    @Flag(name: .customLong("build-only"), help: "Stop after building the index.") var buildOnly = false
    @Flag(name: .customLong("no-peer"), help: "Do not run hnswlib.") var noPeer = false
    @Flag(name: .customLong("open100k"), help: "Also time opening a persisted 100k-node index.") var open100k = false
}
let options = Options.parseOrExit()
let dataDir = options.data
let M = options.M
let efConstruction = options.efConstruction
let efSweep = [16, 24, 32, 48, 64, 96, 128, 256, 512]
let keepPruned = options.keepPruned != 0
let limit = options.limit ?? Int.max
let k = 10

/// CPU time of this thread: the machine is shared, so wall time would measure the other jobs too.
/// The peer reports its thread CPU time the same way (hnswlib runs on the calling thread).
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
func wallNow() -> Double { Date().timeIntervalSince1970 }
func file(_ name: String) -> String {
    let plain = "\(dataDir)/\(name)"
    return FileManager.default.fileExists(atPath: plain) ? plain : plain + ".gz"
}

do {
    let base = try IDXImages(path: file("train-images-idx3-ubyte"), limit: limit)
    let queries = try IDXImages(path: file("t10k-images-idx3-ubyte"))
    let nq = min(1_000, queries.count), dim = base.dimension
    print("Fashion-MNIST: \(base.count) base × \(dim), \(nq) queries, L2, k=\(k), M=\(M), efConstruction=\(efConstruction), keepPrunedConnections=\(keepPruned)")
    print("distance kernels: \(distanceKernelISA); single thread; load: \(loadAverage()); times are thread CPU seconds")

    // Build.
    let index = try HNSWIndex(dimension: dim, metric: .l2,
                              parameters: HNSWParameters(M: M, efConstruction: efConstruction,
                                                         keepPrunedConnections: keepPruned),
                              capacity: base.count)
    let t0 = now(), w0 = wallNow()
    try base.pixels.withUnsafeBufferPointer { all in
        for i in 0..<base.count {
            try index.insert(UnsafeBufferPointer(rebasing: all[i * dim..<(i + 1) * dim]), label: Int64(i))
        }
    }
    let buildSeconds = now() - t0, buildWall = wallNow() - w0
    if options.buildOnly {
        print("build \(fmt(buildSeconds)) s")
        exit(0)
    }

    // Ground truth on the exact (brute-force) search.
    let queryRows = (0..<nq).map { Array(queries.pixels[$0 * dim..<($0 + 1) * dim]) }
    let truth = try queryRows.map { Set(try index.exactSearch($0, k: k).map(\.label)) }

    var ours: [(ef: Int, recall: Double, qps: Double)] = []
    for ef in efSweep {
        var found = 0
        let t = now()
        for (q, row) in queryRows.enumerated() {
            found += try index.search(row, k: k, efSearch: ef).filter { truth[q].contains($0.label) }.count
        }
        ours.append((ef, Double(found) / Double(nq * k), Double(nq) / (now() - t)))
    }

    // Persistence: write the graph to SQLite, close, time the open.
    let dbPath = NSTemporaryDirectory() + "bench-ann-\(getpid()).db"
    defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: dbPath + s) } }
    let tSave = wallNow()
    do {
        let db = try Database(path: dbPath)
        try db.transaction { try index.save(to: db) }
    }
    let saveSeconds = wallNow() - tSave
    let tOpen = wallNow()
    let reopened = try HNSWIndex.load(from: Database(path: dbPath, mode: .readOnly))
    let openSeconds = wallNow() - tOpen
    let same = try queryRows.prefix(100).allSatisfy { try reopened?.search($0, k: k) == index.search($0, k: k) }

    // The peer, same data, same parameters, same machine, right now.
    var peer: PeerResult?
    if !options.noPeer {
        peer = try runPeer(dataDir: dataDir, M: M, efConstruction: efConstruction, efSweep: efSweep, queries: nq,
                           limit: base.count)
    }

    print("")
    print("build wall time (s): ours \(fmt(buildWall)) (shared machine, load \(loadAverage()))")
    print("build CPU (s):  ours \(fmt(buildSeconds))" + (peer.map { "   hnswlib \(fmt($0.buildSeconds))   ratio hnswlib/ours \(fmt($0.buildSeconds / buildSeconds))" } ?? ""))
    print("")
    print("  ef | ours recall@10   q/s | hnswlib recall@10   q/s | q/s ratio ours/hnswlib")
    for (i, row) in ours.enumerated() {
        var line = String(format: "%4d | %15.4f %7.0f |", row.ef, row.recall, row.qps)
        if let p = peer, i < p.sweep.count {
            line += String(format: " %18.4f %7.0f | %5.2f", p.sweep[i].recall, p.sweep[i].qps, row.qps / p.sweep[i].qps)
        }
        print(line)
    }
    if let p = peer { print("\nat equal recall (ours q/s ÷ hnswlib q/s, hnswlib interpolated):"); equalRecall(ours, p.sweep) }
    print("")
    print("persisted index (\(base.count) nodes × \(dim)): save \(fmt(saveSeconds)) s, open \(fmt(openSeconds)) s, "
          + "file \(fileMB(dbPath)) MB, same results after reopen: \(same)")
    if options.open100k { try persistence100k() }
} catch {
    FileHandle.standardError.write("bench-ann: \(error)\n".data(using: .utf8)!)
    exit(1)
}
