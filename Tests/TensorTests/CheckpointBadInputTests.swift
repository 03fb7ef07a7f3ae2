import Foundation
import XCTest
@testable import Tensor

/// Broken files are errors that name the file (and the tensor when there is one), never crashes.
final class CheckpointBadInputTests: XCTestCase {
    func assertThrows(_ body: @autoclosure () throws -> Any, mentioning words: [String], _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), label, file: file, line: line) { error in
            let message = "\(error)"
            for w in words where !message.contains(w) {
                XCTFail("\(label): '\(message)' does not mention '\(w)'", file: file, line: line)
            }
        }
    }

    func write(_ bytes: Data, _ name: String) throws -> URL {
        let url = CheckpointFixtures.temporaryURL(name)
        try bytes.write(to: url)
        return url
    }

    /// A safetensors file from a header string and a data section.
    func safetensors(header: String, data: Data, name: String = "bad.safetensors") throws -> URL {
        var bytes = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(json)
        bytes.append(data)
        return try write(bytes, name)
    }

    // MARK: - safetensors

    func testTruncatedSafeTensors() throws {
        let bytes = try Data(contentsOf: CheckpointFixtures.url("st_mixed.safetensors"))
        for cut in [0, 3, 8, 9, 40, 300, bytes.count - 20, bytes.count - 1] {
            let url = try write(bytes.prefix(cut), "cut\(cut).safetensors")
            assertThrows(try SafeTensorsFile(url: url), mentioning: [url.lastPathComponent], "cut at \(cut)")
        }
    }

    func testCorruptSafeTensorsHeaders() throws {
        let four = Data(repeating: 0, count: 16)
        let cases: [(String, String, [String])] = [
            ("not json", "{\"a\": {\"dtype\": \"F32\"", ["JSON"]),
            ("not an object", "[1, 2]", ["object"]),
            ("offsets out of range", #"{"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}"#, ["'w'", "past the end"]),
            ("shape × dtype vs range", #"{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 12]}}"#, ["'w'", "[2, 2]"]),
            ("decreasing offsets", #"{"w": {"dtype": "F16", "shape": [2], "data_offsets": [8, 4]}}"#, ["'w'"]),
            ("negative dimension", #"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, ["'w'", "shape"]),
            ("missing dtype", #"{"w": {"shape": [1], "data_offsets": [0, 4]}}"#, ["'w'", "dtype"]),
            ("metadata not strings", #"{"__metadata__": {"a": 1}}"#, ["__metadata__"]),
            ("overflowing shape", #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 16]}}"#, ["'w'"]),
        ]
        for (label, header, words) in cases {
            let url = try safetensors(header: header, data: four)
            assertThrows(try SafeTensorsFile(url: url), mentioning: [url.lastPathComponent] + words, label)
        }
        // header length beyond the end of the file
        var bytes = try Data(contentsOf: CheckpointFixtures.url("st_mixed.safetensors"))
        bytes.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        let url = try write(bytes, "long-header.safetensors")
        assertThrows(try SafeTensorsFile(url: url), mentioning: [url.lastPathComponent, "header length"], "header length")
    }

    func testUnknownSafeTensorsDType() throws {
        let url = try safetensors(header: #"{"odd": {"dtype": "X7", "shape": [2], "data_offsets": [0, 16]}, "ok": {"dtype": "F32", "shape": [0], "data_offsets": [16, 16]}}"#,
                                  data: Data(repeating: 0, count: 16))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.info("odd")?.dtype, .unknown("X7"))
        XCTAssertEqual(try file.tensor("ok").shape, [0])
        assertThrows(try file.tensor("odd"), mentioning: [url.lastPathComponent, "'odd'", "X7"], "unknown dtype")
    }

    func testMissingFileAndDirectory() throws {
        let missing = CheckpointFixtures.temporaryURL("absent.safetensors")
        assertThrows(try SafeTensorsFile(url: missing), mentioning: [missing.lastPathComponent], "missing")
        let dir = missing.deletingLastPathComponent()
        assertThrows(try GGUFFile(url: dir), mentioning: [dir.path], "directory")
    }

    // MARK: - GGUF

    /// Byte position just after the length-prefixed name `name` in the tensor infos.
    func positionAfterName(_ name: String, in bytes: Data) throws -> Int {
        var needle = withUnsafeBytes(of: UInt64(name.utf8.count).littleEndian) { Data($0) }
        needle.append(Data(name.utf8))
        let range = try XCTUnwrap(bytes.range(of: needle, options: .backwards), "tensor info '\(name)'")
        return range.upperBound
    }

    func patch<T: FixedWidthInteger>(_ bytes: inout Data, at position: Int, _ value: T) {
        bytes.replaceSubrange(position..<position + MemoryLayout<T>.size, with: withUnsafeBytes(of: value.littleEndian) { Data($0) })
    }

    func testTruncatedGGUF() throws {
        let bytes = try Data(contentsOf: CheckpointFixtures.url("types.gguf"))
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        let needed = file.tensorInfos.map { file.dataOffset + $0.offset + ($0.byteCount ?? 0) }.max() ?? 0
        var cuts = Array(stride(from: 0, to: needed, by: 997)) + [3, 7, 15, 23, file.dataOffset - 1, file.dataOffset, needed - 1]
        cuts.sort()
        for cut in cuts {
            let url = try write(bytes.prefix(cut), "cut\(cut).gguf")
            assertThrows(try GGUFFile(url: url), mentioning: [url.lastPathComponent], "cut at \(cut)")
        }
        XCTAssertNoThrow(try GGUFFile(url: write(bytes.prefix(needed), "exact.gguf")))
    }

    func testCorruptGGUF() throws {
        let original = try Data(contentsOf: CheckpointFixtures.url("types.gguf"))
        var cases: [(String, Data, [String])] = []

        var b = original
        b[0] = UInt8(ascii: "X")
        cases.append(("wrong magic", b, ["not a GGUF file"]))

        b = original
        patch(&b, at: 16, UInt64(1) << 50)
        cases.append(("huge kv_count", b, ["kv_count"]))

        b = original
        patch(&b, at: 8, UInt64(1) << 40)
        cases.append(("huge tensor_count", b, ["tensor_count"]))

        let afterQ8 = try positionAfterName("q8_0", in: original)  // n_dims u32, ne u64 × 2, type u32, offset u64
        b = original
        patch(&b, at: afterQ8 + 4 + 16 + 4, UInt64(original.count))
        cases.append(("offset out of range", b, ["'q8_0'", "past the end"]))

        b = original
        patch(&b, at: afterQ8 + 4 + 16 + 4, UInt64(32))
        cases.append(("offset not aligned", b, ["'q8_0'", "alignment"]))

        b = original
        patch(&b, at: afterQ8 + 4, UInt64(500))
        cases.append(("dimension not a multiple of the block", b, ["'q8_0'", "block size"]))

        b = original
        patch(&b, at: afterQ8 + 4 + 8, UInt64(1_000_000))
        cases.append(("shape larger than the data", b, ["'q8_0'", "past the end"]))

        b = original
        patch(&b, at: afterQ8, UInt32(9))
        cases.append(("too many dimensions", b, ["'q8_0'", "dimensions"]))

        b = original
        patch(&b, at: afterQ8 - 4 - 8, UInt64(1) << 60)  // the name's own length prefix
        cases.append(("string length beyond the file", b, ["name of tensor"]))

        let afterKey = try positionAfterName("t.u8", in: original)
        b = original
        patch(&b, at: afterKey, UInt32(77))
        cases.append(("unknown value type", b, ["'t.u8'", "unknown value type 77"]))

        let afterAlignKey = try positionAfterName("general.alignment", in: original)
        b = original
        patch(&b, at: afterAlignKey + 4, UInt32(48))
        cases.append(("alignment not a power of two", b, ["alignment"]))

        let afterStrs = try positionAfterName("t.strs", in: original)
        b = original
        patch(&b, at: afterStrs + 4 + 4, UInt64(1) << 59)
        cases.append(("array longer than the file", b, ["'t.strs'"]))

        for (label, bytes, words) in cases {
            let url = try write(bytes, "corrupt.gguf")
            assertThrows(try GGUFFile(url: url), mentioning: [url.lastPathComponent] + words, label)
        }

        // An unknown type id opens (its size is unknown), but reading it names type and tensor.
        b = original
        patch(&b, at: afterQ8 + 4 + 16, UInt32(99))
        let url = try write(b, "unknown-type.gguf")
        let file = try GGUFFile(url: url)
        assertThrows(try file.tensor("q8_0"), mentioning: [url.lastPathComponent, "'q8_0'", "type 99"], "unknown type")
        XCTAssertEqual(try file.tensor("q6_k").count, 8 * 512)
    }

    /// Random byte flips in the header region: each file either opens or throws, and whatever opens
    /// reads every tensor or throws. (A crash fails the whole run.)
    func testRandomCorruptionNeverCrashes() throws {
        let original = try Data(contentsOf: CheckpointFixtures.url("types.gguf"))
        let headerEnd = try GGUFFile(url: CheckpointFixtures.url("types.gguf")).dataOffset
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        var opened = 0
        for trial in 0..<150 {
            var bytes = original
            for _ in 0..<(1 + next() % 3) { bytes[next() % headerEnd] = UInt8(truncatingIfNeeded: next()) }
            let url = try write(bytes, "fuzz\(trial).gguf")
            guard let file = try? GGUFFile(url: url) else { continue }
            opened += 1
            for info in file.tensorInfos {
                if let t = try? file.tensor(info.name) { XCTAssertEqual(t.count, info.elementCount) }
                if let m = try? file.matrix(info.name), m.rows > 0, m.cols > 0 {
                    var y = [Float](repeating: 0, count: m.rows)
                    m.matvec([Float](repeating: 1, count: m.cols), into: &y, threads: 1)
                }
            }
            try? FileManager.default.removeItem(at: url)
        }
        XCTAssertGreaterThan(opened, 0, "some flips land in values that do not matter")
    }
}
