import Foundation
import XCTest
@testable import Tensor

final class CheckpointGGUFTests: XCTestCase {
    struct Listing: Decodable {
        struct Entry: Decodable { let name: String; let type: String; let shape: [Int] }
        let tensors: [Entry]
        let alignment: Int
    }

    /// Fixture tensors with the values gguf.quants.dequantize gave for them.
    static func expectedTensors() throws -> [(entry: Listing.Entry, values: [Float])] {
        let listing = try JSONDecoder().decode(Listing.self, from: Data(contentsOf: CheckpointFixtures.url("types.json")))
        let raw = try Data(contentsOf: CheckpointFixtures.url("types.expected.f32"))
        var floats = [Float](repeating: 0, count: raw.count / 4)
        _ = floats.withUnsafeMutableBytes { raw.copyBytes(to: $0) }
        var start = 0
        return listing.tensors.map { entry in
            let n = entry.shape.reduce(1, *)
            defer { start += n }
            return (entry, Array(floats[start..<start + n]))
        }
    }

    func testMetadataOfEveryValueType() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.string("general.architecture"), "testarch")
        XCTAssertEqual(file.metadata["t.u8"], .uint8(200))
        XCTAssertEqual(file.metadata["t.i8"], .int8(-100))
        XCTAssertEqual(file.metadata["t.u16"], .uint16(60000))
        XCTAssertEqual(file.metadata["t.i16"], .int16(-30000))
        XCTAssertEqual(file.metadata["t.u32"], .uint32(4_000_000_000))
        XCTAssertEqual(file.metadata["t.i32"], .int32(-2_000_000_000))
        XCTAssertEqual(file.metadata["t.u64"], .uint64(1 << 40 + 3))
        XCTAssertEqual(file.metadata["t.i64"], .int64(-(1 << 40) - 5))
        XCTAssertEqual(file.metadata["t.f32"], .float32(0.15625))
        XCTAssertEqual(file.metadata["t.f64"], .float64(-1.0e-300))
        XCTAssertEqual(file.metadata["t.bool"], .bool(true))
        XCTAssertEqual(file.string("t.str"), "héllo ✓")
        // typed accessors read any width
        XCTAssertEqual(file.int("t.u8"), 200)
        XCTAssertEqual(file.int("t.u32"), 4_000_000_000)
        XCTAssertEqual(file.int("t.i64"), -(1 << 40) - 5)
        XCTAssertEqual(file.float("t.f32"), 0.15625)
        XCTAssertEqual(file.double("t.f64"), -1.0e-300)
        XCTAssertEqual(file.bool("t.bool"), true)
        XCTAssertNil(file.int("t.str"))
        XCTAssertNil(file.string("missing"))
        XCTAssertEqual(file.stringArray("t.strs"), ["a", "", "ünï", "<|im_start|>"])
        XCTAssertEqual(file.intArray("t.ints"), [1, -2, 3])
        XCTAssertEqual(file.floatArray("t.floats"), [0.5, -1.25])
        XCTAssertNil(file.stringArray("t.ints"))
        XCTAssertEqual(file.metadata["t.nested"], .array([.array([.int32(1), .int32(2)]), .array([.int32(3)]),
                                                          .array([.int32(4), .int32(5), .int32(6)])]))
        XCTAssertEqual(file.metadata["t.nested_strs"], .array([.array([.string("x"), .string("y")]), .array([.string("z")])]))
    }

    func testTensorInfosAndShapes() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        XCTAssertEqual(file.tensorInfos.map(\.name), ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q4_k", "q6_k", "q5_0", "cube"])
        let q41 = try XCTUnwrap(file.info("q4_1"))
        XCTAssertEqual(q41.type, .q4_1)
        XCTAssertEqual(q41.dimensions, [512, 8])
        XCTAssertEqual(q41.shape, [8, 512])
        XCTAssertEqual([q41.rows, q41.cols], [8, 512])
        XCTAssertEqual(q41.byteCount, 8 * 512 / 32 * 20)
        let cube = try XCTUnwrap(file.info("cube"))
        XCTAssertEqual(cube.dimensions, [4, 3, 2])
        XCTAssertEqual(cube.shape, [2, 3, 4])
        XCTAssertEqual([cube.rows, cube.cols], [6, 4])
        XCTAssertTrue(file.tensorInfos.allSatisfy { $0.offset % 64 == 0 })
    }

    func testDequantizationMatchesGGUFPackage() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        for (entry, expected) in try Self.expectedTensors() {
            let t = try file.tensor(entry.name)
            XCTAssertEqual(t.shape, entry.shape, entry.name)
            XCTAssertEqual(file.info(entry.name)?.type.name, entry.type)
            let got = t.toArray()
            let scale = expected.map(abs).max() ?? 1
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
            // numpy and C may round d*q+m differently by an ulp; anything more is a layout error
            XCTAssertLessThanOrEqual(worst, 1e-6 * scale, "\(entry.name) (\(entry.type))")
        }
    }

    func testUnsupportedTypeIsAnErrorNamingTypeAndTensor() throws {
        let file = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        XCTAssertEqual(file.info("q5_0")?.type.name, "Q5_0")
        for attempt in [{ _ = try file.tensor("q5_0") }, { _ = try file.matrix("q5_0") }] {
            XCTAssertThrowsError(try attempt()) { error in
                let m = "\(error)"
                XCTAssertTrue(m.contains("types.gguf") && m.contains("'q5_0'") && m.contains("Q5_0"), m)
            }
        }
        XCTAssertThrowsError(try file.tensor("nope")) { XCTAssertTrue("\($0)".contains("nope")) }
    }

    func testVersion2ReadsTheSame() throws {
        var bytes = try Data(contentsOf: CheckpointFixtures.url("types.gguf"))
        bytes[4] = 2
        let url = CheckpointFixtures.temporaryURL("v2.gguf")
        try bytes.write(to: url)
        let v2 = try GGUFFile(url: url), v3 = try GGUFFile(url: CheckpointFixtures.url("types.gguf"))
        XCTAssertEqual(v2.version, 2)
        XCTAssertEqual(v2.metadata, v3.metadata)
        XCTAssertEqual(try v2.tensor("q6_k").toArray(), try v3.tensor("q6_k").toArray())
        bytes[4] = 1
        try bytes.write(to: url)
        XCTAssertThrowsError(try GGUFFile(url: url)) { XCTAssertTrue("\($0)".contains("version 1"), "\($0)") }
    }

    func testF32TensorBorrowsTheMapping() throws {
        let url = try CheckpointFixtures.temporaryCopy("types.gguf")
        let before = try Data(contentsOf: url)
        var file: GGUFFile? = try GGUFFile(url: url)
        let t = try XCTUnwrap(file).tensor("cube")
        file = nil  // the tensor keeps the mapping alive
        XCTAssertEqual(t.toArray(), (0..<24).map(Float.init))
        t.data[5] = -1
        XCTAssertEqual(t.toArray()[5], -1)
        XCTAssertEqual(try Data(contentsOf: url), before)
    }

    /// Every tensor of the default model loads (types F32, Q4_1, Q8_0 there), with the
    /// metadata the generator needs.
    func testDefaultModelLoads() throws {
        guard let url = CheckpointFixtures.defaultGGUF else { throw XCTSkip("default GGUF not present") }
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.string("general.architecture"), "llama")
        XCTAssertEqual(file.int("llama.embedding_length"), 576)
        XCTAssertEqual(file.int("llama.block_count"), 30)
        XCTAssertEqual(file.float("llama.attention.layer_norm_rms_epsilon"), 1e-5)
        XCTAssertEqual(file.stringArray("tokenizer.ggml.tokens")?.count, 49152)
        XCTAssertEqual(file.intArray("tokenizer.ggml.token_type")?.count, 49152)
        XCTAssertGreaterThan(file.stringArray("tokenizer.ggml.merges")?.count ?? 0, 40000)
        XCTAssertEqual(file.info("token_embd.weight")?.shape, [49152, 576])
        let types = Set(file.tensorInfos.map(\.type.name))
        XCTAssertTrue(types.isSubset(of: ["F32", "Q4_1", "Q8_0"]), "\(types)")
        for info in file.tensorInfos {
            let t = try file.tensor(info.name)
            XCTAssertEqual(t.shape, info.shape)
            let v = t.toArray()
            let sample = stride(from: 0, to: v.count, by: max(1, v.count / 97)).map { v[$0] }
            XCTAssertTrue(sample.allSatisfy(\.isFinite), info.name)
            XCTAssertTrue(sample.contains { $0 != 0 }, info.name)
        }
    }
}
