import Foundation

/// Reads an MNIST-style idx3 image file (optionally .gz, through `gzip -dc`) as Float32 rows.
/// Layout: magic 0x00000803, count, rows, cols (big-endian UInt32), then count·rows·cols bytes.
struct IDXImages {
    let count: Int
    let dimension: Int
    let pixels: [Float]  // [count, dimension]

    init(path: String, limit: Int = Int.max) throws {
        let data = try IDXImages.readMaybeGzip(path)
        guard data.count >= 16 else { throw BenchError("\(path): \(data.count) bytes, too short for an idx header") }
        func u32(_ offset: Int) -> Int {
            data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        guard u32(0) == 0x0803 else { throw BenchError("\(path): magic \(String(u32(0), radix: 16)) is not idx3 (0x803)") }
        let stored = u32(4)
        dimension = u32(8) * u32(12)
        guard data.count == 16 + stored * dimension else {
            throw BenchError("\(path): \(data.count) bytes, header says \(16 + stored * dimension)")
        }
        count = min(stored, limit)
        pixels = data[16..<16 + count * dimension].map { Float($0) }
    }

    static func readMaybeGzip(_ path: String) throws -> Data {
        guard path.hasSuffix(".gz") else { return try Data(contentsOf: URL(fileURLWithPath: path)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("gzip -dc \(path) failed") }
        return data
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
