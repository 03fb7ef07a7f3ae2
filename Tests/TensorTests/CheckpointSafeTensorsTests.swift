import Foundation
import XCTest
@testable import Tensor

final class CheckpointSafeTensorsTests: XCTestCase {
    struct Expected: Decodable {
        let values: [String: [Double]]
        let shapes: [String: [Int]]
        let dtypes: [String: String]
        let metadata: [String: String]
    }

    func testReadsFileWrittenByPythonPackage() throws {
        let url = try CheckpointFixtures.url("st_mixed.safetensors")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: CheckpointFixtures.url("st_mixed.json")))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(Set(file.names), Set(expected.shapes.keys))
        XCTAssertEqual(file.metadata, expected.metadata)
        for (name, shape) in expected.shapes {
            let info = try XCTUnwrap(file.info(name))
            XCTAssertEqual(info.shape, shape, name)
            XCTAssertEqual(info.dtype.description, expected.dtypes[name], name)
        }
        for (name, values) in expected.values {
            let t = try file.tensor(name)
            XCTAssertEqual(t.shape, expected.shapes[name], name)
            XCTAssertEqual(t.toArray(), values.map { Float($0) }, name)  // conversions are exact
        }
        XCTAssertNil(file.info("missing"))
        XCTAssertThrowsError(try file.tensor("ids_i64")) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("st_mixed.safetensors") && message.contains("ids_i64") && message.contains("I64"), message)
        }
    }

    func testF32IsBorrowedCopyOnWrite() throws {
        let url = try CheckpointFixtures.temporaryCopy("st_mixed.safetensors")
        let before = try Data(contentsOf: url)
        let file = try SafeTensorsFile(url: url)
        let t = try file.tensor("w_f32")
        let original = t.toArray()
        t.data[0] = 12345  // lands in the private mapping only
        XCTAssertEqual(try file.tensor("w_f32").data[0], 12345, "the tensor views the mapping")
        XCTAssertEqual(try Data(contentsOf: url), before, "the file is untouched")
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("w_f32").toArray(), original)
    }

    func testRoundTripF32F16BF16() throws {
        let a = try Tensor((0..<12).map { Float($0) * 0.3 - 1.7 }, shape: [3, 4])
        let transposed = Tensor(storage: a.storage, shape: [4, 3], strides: [1, 4])  // not contiguous
        let tensors: [(String, Tensor)] = [
            ("a", a), ("a.T", transposed), ("scalar", Tensor(scalar: -2.5)), ("empty", Tensor(zeros: [0, 3])),
            ("tiny", try Tensor([1e-6, 65000, -0.0, 3.0e-5], shape: [4])),
        ]
        for (dtype, tolerance) in [(SafeTensorsDType.f32, Float(0)), (.f16, 1.0 / 2048), (.bf16, 1.0 / 256)] {
            let url = CheckpointFixtures.temporaryURL("roundtrip.safetensors")
            try SafeTensors.write(tensors, metadata: ["k": "v", "ü": "✓"], dtype: dtype, to: url)
            let file = try SafeTensorsFile(url: url)
            XCTAssertEqual(file.names, tensors.map(\.0), "data in the order given")
            XCTAssertEqual(file.metadata, ["k": "v", "ü": "✓"])
            for (name, tensor) in tensors {
                XCTAssertEqual(file.info(name)?.dtype, dtype)
                let back = try file.tensor(name)
                XCTAssertEqual(back.shape, tensor.shape, name)
                for (x, y) in zip(back.toArray(), tensor.toArray()) {
                    // tolerance: relative rounding of the format (F16 subnormals: absolute 2^-24)
                    XCTAssertLessThanOrEqual(abs(x - y), tolerance * abs(y) + (dtype == .f16 ? 6e-8 : 0), "\(dtype) \(name)")
                }
            }
        }
    }

    func testSwiftWrittenFixturesAreWhatTheWriterProduces() throws {
        // The committed files are verified by `make_checkpoint_fixtures.py --verify` in Python.
        let tensors = try CheckpointFixtures.swiftWrittenTensors()
        for (suffix, dtype) in [("f32", SafeTensorsDType.f32), ("bf16", .bf16)] {
            let name = "swift_written_\(suffix).safetensors"
            let url = CheckpointFixtures.temporaryURL(name)
            try SafeTensors.write(tensors, metadata: ["producer": "rag", "dtype": suffix], dtype: dtype, to: url)
            if ProcessInfo.processInfo.environment["RAG_WRITE_FIXTURES"] == "1" {
                try SafeTensors.write(tensors, metadata: ["producer": "rag", "dtype": suffix], dtype: dtype,
                                      to: CheckpointFixtures.sourceDirectory.appendingPathComponent(name))
            }
            XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: CheckpointFixtures.url(name)), name)
        }
    }

    func testWriteReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
        let url = CheckpointFixtures.temporaryURL("atomic.safetensors")
        try SafeTensors.write([("x", Tensor(repeating: 1, shape: [2]))], to: url)
        try SafeTensors.write([("y", Tensor(repeating: 2, shape: [3]))], to: url)
        XCTAssertEqual(try SafeTensorsFile(url: url).names, ["y"])
        // A failing write (repeated name) leaves the previous file as it was.
        XCTAssertThrowsError(try SafeTensors.write([("z", Tensor(zeros: [1])), ("z", Tensor(zeros: [1]))], to: url))
        XCTAssertThrowsError(try SafeTensors.write([("z", Tensor(zeros: [1]))], dtype: .other("I64", bytes: 8), to: url))
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("y").toArray(), [2, 2, 2])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
        XCTAssertEqual(leftovers.filter { $0.hasSuffix(".tmp") }, [])
        // A folder that does not exist: an error naming the file.
        let missing = url.deletingLastPathComponent().appendingPathComponent("no/such/dir/x.safetensors")
        XCTAssertThrowsError(try SafeTensors.write([("x", Tensor(zeros: [1]))], to: missing)) { error in
            XCTAssertTrue("\(error)".contains("x.safetensors"), "\(error)")
        }
    }
}

/// Locating fixtures and scratch files for the Checkpoint*Tests.
enum CheckpointFixtures {
    static func url(_ name: String) throws -> URL {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "fixtures not bundled")
        return root.appendingPathComponent("checkpoint").appendingPathComponent(name)
    }

    /// The fixture folder in the source tree (for regenerating the Swift-written fixtures).
    static var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/checkpoint")
    }

    static func temporaryURL(_ name: String) -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rag-checkpoint-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("\(UUID().uuidString.prefix(8))-\(name)")
    }

    static func temporaryCopy(_ fixture: String) throws -> URL {
        let dst = temporaryURL(fixture)
        try Data(contentsOf: url(fixture)).write(to: dst)
        return dst
    }

    /// Same formula as swift_written_values() in scripts/fixtures/make_checkpoint_fixtures.py.
    static func swiftWrittenTensors() throws -> [(String, Tensor)] {
        func values(_ shape: [Int], phase: Int) throws -> Tensor {
            let n = shape.reduce(1, *)
            let v = (0..<n).map { k -> Float in
                let i = Double(k + phase)
                return Float(sin(0.37 * i) * (1 + i / 7))
            }
            return try Tensor(v, shape: shape)
        }
        return [("layer.weight", try values([3, 5], phase: 0)), ("layer.bias", try values([5], phase: 100)),
                ("scalar", try values([], phase: 7))]
    }

    /// The default GGUF model when present (RAG_MODELS or ~/.cache/rag/models), else nil.
    static var defaultGGUF: URL? {
        let env = ProcessInfo.processInfo.environment
        let dir = env["RAG_MODELS"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/rag/models")
        let url = dir.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}
