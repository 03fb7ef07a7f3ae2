import Foundation
import XCTest
@testable import RAG
import Tokenizers

/// The pipeline on real files, a real SQLite base and the real embedder.
final class PipelineTests: XCTestCase {
    func testResyncAddsChangesRemovesExactlyWhatChanged() throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("a.md", "# Alpha\n\nAardvarks dig burrows at night.")
        try docs.write("b.md", "# Bravo\n\nBeavers build dams across rivers.")
        try docs.write("sub/c.txt", "Cormorants dive for fish along the coast.")
        try docs.write("notes.jsonl", "{\"not\": \"a document\"}")
        let p = try TestModels.pipeline(in: store.url)

        var r = try p.ingest(folder: docs.url, progress: { _ in })
        XCTAssertEqual([r.added, r.changed, r.removed, r.unchanged], [3, 0, 0, 0])
        XCTAssertEqual(r.skipped.values.reduce(0, +), 1)

        r = try p.ingest(folder: docs.url, progress: { _ in })
        XCTAssertEqual([r.added, r.changed, r.removed, r.unchanged], [0, 0, 0, 3], "nothing changed")

        try docs.write("a.md", "# Alpha\n\nAntelopes run across the savanna.")   // changed
        try FileManager.default.removeItem(at: docs.url.appendingPathComponent("b.md"))  // removed
        try docs.write("d.md", "# Delta\n\nDolphins sleep with half of their brain.")  // added
        let c = docs.url.appendingPathComponent("sub/c.txt")                    // touched, same content
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: c.path)

        r = try p.ingest(folder: docs.url, progress: { _ in })
        XCTAssertEqual([r.added, r.changed, r.removed, r.unchanged], [1, 1, 1, 1])
        XCTAssertEqual(try p.configuration.store.check(), [])
        XCTAssertEqual(try p.base.documents().map(\.path).sorted(), ["a.md", "d.md", "sub/c.txt"])

        let old = try p.retrieve("Aardvarks dig burrows", options: SearchOptions(k: 10, mode: .lexical))
        XCTAssertTrue(old.isEmpty, "the old text of a.md is gone")
        let new = try p.retrieve("animals that run on the savanna", options: SearchOptions(k: 1, mode: .vector))
        XCTAssertEqual(new.first?.chunk.path, "a.md")
    }

    func testBadFilesAreReportedAndTheRestIsIngested() throws {
        let docs = try TempFolder(), store = try TempFolder()
        try docs.write("good.md", "# Good\n\nThis file is fine and talks about vector indexes.")
        try docs.writeData("binary.txt", Data([0x00, 0x01, 0x02, 0xFF, 0x00]))
        try docs.write("empty.md", "")
        try docs.writeData("broken.pdf", Data("%PDF-1.4\n1 0 obj\n<< /Type /Catalog".utf8))
        try docs.writeData("latin1.txt", Data([0x63, 0x61, 0x66, 0xE9, 0x20, 0x6E, 0x6F, 0x69, 0x72]))
        let p = try TestModels.pipeline(in: store.url)
        let r = try p.ingest(folder: docs.url, progress: { _ in })
        XCTAssertEqual(r.added, 1)
        XCTAssertEqual(Set(r.failed.map(\.path)), ["binary.txt", "empty.md", "broken.pdf", "latin1.txt"])
        XCTAssertTrue(r.failed.allSatisfy { !$0.reason.isEmpty })
        XCTAssertEqual(try p.base.documents().map(\.path), ["good.md"])
    }

    func testFilteredSearchReturnsKFromTheMatchingDocuments() async throws {
        let docs = try TempFolder(), store = try TempFolder()
        for i in 0..<12 {
            try docs.write("guides/g\(i).md", "# Guide \(i)\n\nGuide number \(i) explains retrieval step \(i) in detail.")
            try docs.write("other/o\(i).md", "# Other \(i)\n\nRetrieval notes \(i) about ranking and recall.")
        }
        let p = try TestModels.pipeline(in: store.url)
        _ = try p.ingest(folder: docs.url, progress: { _ in })
        for mode in RetrievalMode.allCases {
            let hits = try await p.search("retrieval", options: SearchOptions(k: 5, mode: mode, pathGlob: "guides/**"))
            XCTAssertEqual(hits.count, 5, "\(mode)")
            XCTAssertTrue(hits.allSatisfy { $0.file.hasPrefix("guides/") }, "\(mode)")
        }
    }

    func testKIsBoundedByOneRuleForEachUse() async throws {
        let store = try TempFolder()
        let p = try TestModels.pipeline(in: store.url)
        XCTAssertNil(SearchOptions(k: 1000).kProblem(for: .search))
        XCTAssertEqual(SearchOptions(k: 0).kProblem(for: .search), "must be between 1 and 1000")
        XCTAssertNil(SearchOptions(k: 50).kProblem(for: .answer))
        do { _ = try await p.search("x", options: SearchOptions(k: 1001)); XCTFail("k 1001 accepted") } catch {
            XCTAssertEqual(error as? RAGError, .invalidInput("k must be between 1 and 1000"))
        }
        // Checked before the generator is loaded (this pipeline has none).
        let request = AnswerRequest(messages: [ChatMessage(role: "user", content: "x")], search: SearchOptions(k: 51))
        XCTAssertThrowsError(try p.answerSync(request, isCancelled: { false }, onToken: { _ in true })) { error in
            XCTAssertEqual(error as? RAGError, .invalidInput("k must be between 1 and 50"))
        }
    }

    func testUploadIsSanitisedAndIngested() async throws {
        let store = try TempFolder()
        let p = try TestModels.pipeline(in: store.url)
        let info = try await p.addDocument(fileName: "../../etc/evil notes.md", data: Data("# Notes\n\nUploaded text about BM25.".utf8))
        XCTAssertEqual(info.path, "evil notes.md")
        XCTAssertTrue(FileManager.default.fileExists(atPath: p.uploadsFolder.appendingPathComponent("evil notes.md").path))
        XCTAssertThrowsError(try UploadName.sanitize("../.."))
        let hits = try await p.search("BM25", options: SearchOptions(k: 3, mode: .lexical))
        XCTAssertEqual(hits.first?.file, "evil notes.md")
        let deleted = try await p.deleteDocument(id: info.id)
        XCTAssertTrue(deleted)
        let documents = try await p.stats().documents
        XCTAssertEqual(documents, 0)
    }
}

/// The generator with a LoRA adapter (the Generator's fixture adapter, made by transformers + peft).
final class AdapterPipelineTests: XCTestCase {
    static let adapter = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("GeneratorTests/Fixtures/smollm2_lora", isDirectory: true)

    func pipeline(adapter: String) throws -> (RAGPipeline, TempFolder) {
        let temp = try TempFolder()
        let e = try TestModels.requireEmbedder(), g = try TestModels.requireGenerator()
        var c = RAGPipeline.Configuration(database: temp.url.appendingPathComponent("kb.db"))
        c.adapterPath = adapter
        return (try RAGPipeline(configuration: c, embedder: e) { g }, temp)
    }

    func testAdapterIsTheDefaultAndTheBaseStaysByName() throws {
        let (p, _temp) = try pipeline(adapter: Self.adapter.path)
        _ = _temp
        XCTAssertEqual(p.models.adapters, ["smollm2_lora"])
        XCTAssertEqual(p.models.defaultGenerationModel, "smollm2_lora")
        XCTAssertEqual(try p.generator(named: nil).name, "smollm2_lora")
        XCTAssertEqual(try p.generator(named: p.models.generator).name, p.models.generator)
        XCTAssertThrowsError(try p.generator(named: "nope")) { XCTAssertTrue("\($0)".contains("nope")) }
    }

    func testMissingAdapterFolderIsAClearError() throws {
        let (p, temp) = try pipeline(adapter: "/nonexistent/my_adapter")
        _ = temp
        XCTAssertThrowsError(try p.generator(named: nil)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/my_adapter"), "\(error)")
            XCTAssertTrue("\(error)".contains("adapter_config.json"), "\(error)")
        }
    }
}

/// The default model runs with the project's adapter when it is installed in the models folder;
/// `--no-adapter`, an explicit adapter or another model change that.
final class DefaultAdapterTests: XCTestCase {
    func configuration(models: URL, database: URL) -> RAGPipeline.Configuration {
        var c = RAGPipeline.Configuration(database: database)
        c.models = ModelLocator(environment: ["RAG_MODELS": models.path])
        return c
    }

    func testDefaultModelGetsTheInstalledAdapterUnlessToldOtherwise() throws {
        let temp = try TempFolder()
        let installed = temp.url.appendingPathComponent(ModelLocator.defaultAdapterName, isDirectory: true)
        var c = configuration(models: temp.url, database: temp.url.appendingPathComponent("kb.db"))
        XCTAssertNil(c.activeAdapterPath, "nothing installed: the base alone")

        try FileManager.default.copyItem(at: AdapterPipelineTests.adapter, to: installed)
        XCTAssertEqual(c.activeAdapterPath, installed.path)
        c.generatorPath = temp.url.appendingPathComponent(ModelLocator.defaultGeneratorName).path
        XCTAssertEqual(c.activeAdapterPath, installed.path, "the default model named by its path is still the default")

        c.useDefaultAdapter = false
        XCTAssertNil(c.activeAdapterPath, "--no-adapter")
        c.useDefaultAdapter = true
        c.generatorPath = "/models/other.gguf"
        XCTAssertNil(c.activeAdapterPath, "another model gets no adapter unless one is given")
        c.adapterPath = "/adapters/mine"
        XCTAssertEqual(c.activeAdapterPath, "/adapters/mine")
    }

    func testPipelineServesTheDefaultAdapterAndTheBaseByName() throws {
        let temp = try TempFolder()
        try FileManager.default.copyItem(at: AdapterPipelineTests.adapter,
                                         to: temp.url.appendingPathComponent(ModelLocator.defaultAdapterName, isDirectory: true))
        let e = try TestModels.requireEmbedder(), g = try TestModels.requireGenerator()
        var c = configuration(models: temp.url, database: temp.url.appendingPathComponent("kb.db"))
        let p = try RAGPipeline(configuration: c, embedder: e) { g }
        XCTAssertEqual(p.models.adapters, [ModelLocator.defaultAdapterName])
        XCTAssertEqual(p.models.defaultGenerationModel, ModelLocator.defaultAdapterName)
        XCTAssertEqual(try p.generator(named: nil).name, ModelLocator.defaultAdapterName)
        XCTAssertEqual(try p.generator(named: p.models.generator).name, p.models.generator)

        c.useDefaultAdapter = false
        let plain = try RAGPipeline(configuration: c, embedder: e) { g }
        XCTAssertEqual(plain.models.adapters, [])
        XCTAssertEqual(try plain.generator(named: nil).name, plain.models.generator)
    }
}
