// Checkpoints that must be refused with an error naming the problem: another architecture, an
// unsupported quantisation, a truncated file, no tokenizer, a missing or misshapen weight.

import XCTest
@testable import Generator

final class BadInputTests: TemporaryFolderTestCase {


    private func assertLoadFails(_ data: Data, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let url = folder.appendingPathComponent("bad-\(UUID().uuidString).gguf")
        try data.write(to: url)
        XCTAssertThrowsError(try LlamaModel.load(from: url), file: file, line: line) { error in
            let message = "\(error)"
            for part in expected + [url.lastPathComponent] {
                XCTAssertTrue(message.contains(part), "'\(message)' lacks '\(part)'", file: file, line: line)
            }
        }
    }

    func testOtherArchitectureIsRefused() throws {
        try assertLoadFails(TinyLlama(seed: 1).gguf(architecture: "gpt2").data(), ["general.architecture 'gpt2'", "only 'llama'"])
    }

    func testUnsupportedQuantisationIsRefused() throws {
        // attn_q of layer 0 stored as Q5_0 (ggml type 6: 32 values in 22 bytes), which we do not multiply
        let bad = TinyLlama(seed: 1).gguf(replacing: "blk.0.attn_q.weight", with: (type: 6, blockBytes: 22))
        try assertLoadFails(bad.data(), ["blk.0.attn_q.weight", "Q5_0", "not supported"])
    }

    func testTruncatedFileIsRefused() throws {
        let data = TinyLlama(seed: 1).gguf().data()
        try assertLoadFails(data.prefix(data.count - 100), ["run past the end of the file"])
        try assertLoadFails(data.prefix(40), ["impossible for a file of 40 bytes"])
    }

    func testMissingTokenizerIsRefused() throws {
        try assertLoadFails(TinyLlama(seed: 1).gguf(withTokenizer: false).data(), ["no tokenizer.ggml.tokens"])
    }

    func testMissingWeightIsRefused() throws {
        try assertLoadFails(TinyLlama(seed: 1).gguf(replacing: "blk.1.ffn_up.weight", with: nil).data(),
                            ["blk.1.ffn_up.weight"])
    }

    func testHuggingFaceFolderWithoutTokenizerIsRefused() throws {
        let dir = folder.appendingPathComponent("hf")
        try TinyLlama(seed: 1).writeHuggingFace(to: dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertThrowsError(try LlamaModel.load(from: dir)) { error in
            XCTAssertTrue("\(error)".contains("no tokenizer.json"), "\(error)")
        }
    }

    func testHuggingFaceConfigOfAnotherModelTypeIsRefused() throws {
        let dir = folder.appendingPathComponent("hf")
        try TinyLlama(seed: 1).writeHuggingFace(to: dir)
        try Data(#"{"model_type": "bert", "hidden_size": 32}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LlamaModel.load(from: dir)) { error in
            XCTAssertTrue("\(error)".contains("model_type 'bert'"), "\(error)")
        }
    }
}
