import Foundation
import XCTest
@testable import RAGServer
import RAGServerCLI

final class ServerConfigTests: XCTestCase {
    func testDefaults() throws {
        let c = try ServerConfig.resolve(flags: .init(), environment: [:], file: nil)
        XCTAssertEqual(c.host, "127.0.0.1")
        XCTAssertEqual(c.port, 8080)
        XCTAssertEqual(c.parallel, 1)
        XCTAssertEqual(c.queue, 16)
        XCTAssertEqual(c.maxBodyBytes, 1 << 20)
        XCTAssertEqual(c.maxUploadBytes, 32 << 20)
        XCTAssertNil(c.apiKey)
    }

    func testPrecedenceFlagsOverEnvironmentOverFileOverDefaults() throws {
        var file = ServerConfig.Layer()
        file.port = 1111; file.db = "file.db"; file.model = "file.gguf"; file.queue = 3
        let env = ["RAG_PORT": "2222", "RAG_DB": "env.db", "RAG_API_KEY": "env-key"]
        var flags = ServerConfig.Layer()
        flags.port = 3333
        let c = try ServerConfig.resolve(flags: flags, environment: env, file: file)
        XCTAssertEqual(c.port, 3333, "flag wins")
        XCTAssertEqual(c.db, "env.db", "env beats file")
        XCTAssertEqual(c.model, "file.gguf", "file beats default")
        XCTAssertEqual(c.queue, 3)
        XCTAssertEqual(c.apiKey, "env-key")
        XCTAssertEqual(c.parallel, 1, "default")
    }

    func testEnvironmentErrorsNameTheVariable() {
        XCTAssertThrowsError(try ServerConfig.resolve(flags: .init(), environment: ["RAG_PORT": "eighty"], file: nil)) {
            XCTAssertTrue("\($0)".contains("RAG_PORT=eighty"), "\($0)")
        }
        XCTAssertThrowsError(try ServerConfig.resolve(flags: .init(), environment: ["RAG_ALLOW_INSECURE": "maybe"], file: nil))
        XCTAssertThrowsError(try ServerConfig.resolve(flags: .init(), environment: ["RAG_PARALLEL": "0"], file: nil)) {
            XCTAssertTrue("\($0)".contains("parallel"))
        }
    }

    func testConfigFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rag-server-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(#"{"db": "kb.db", "port": 9000, "api_key": "k", "allow_insecure": true, "request_timeout": 12.5}"#.utf8).write(to: url)
        let layer = try ServerConfig.Layer(jsonFile: url.path)
        XCTAssertEqual(layer.db, "kb.db"); XCTAssertEqual(layer.port, 9000); XCTAssertEqual(layer.apiKey, "k")
        XCTAssertEqual(layer.allowInsecure, true); XCTAssertEqual(layer.requestTimeout, 12.5)

        try Data(#"{"prot": 9000}"#.utf8).write(to: url)
        XCTAssertThrowsError(try ServerConfig.Layer(jsonFile: url.path)) { XCTAssertTrue("\($0)".contains("unknown key 'prot'"), "\($0)") }
        try Data(#"{"port": "x"}"#.utf8).write(to: url)
        XCTAssertThrowsError(try ServerConfig.Layer(jsonFile: url.path)) { XCTAssertTrue("\($0)".contains("port"), "\($0)") }
        try Data("not json".utf8).write(to: url)
        XCTAssertThrowsError(try ServerConfig.Layer(jsonFile: url.path))
        XCTAssertThrowsError(try ServerConfig.Layer(jsonFile: "/nonexistent/rag.json")) { XCTAssertTrue("\($0)".contains("/nonexistent/rag.json")) }
    }

    func testRefusesPublicHostWithoutKeyUnlessAllowed() throws {
        var flags = ServerConfig.Layer()
        flags.host = "0.0.0.0"
        XCTAssertThrowsError(try ServerConfig.resolve(flags: flags, environment: [:], file: nil)) {
            XCTAssertTrue("\($0)".contains("--allow-insecure"))
        }
        XCTAssertNoThrow(try ServerConfig.resolve(flags: flags, environment: ["RAG_API_KEY": "k"], file: nil))
        flags.allowInsecure = true
        XCTAssertNoThrow(try ServerConfig.resolve(flags: flags, environment: [:], file: nil))
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { XCTAssertTrue(ServerConfig.isLoopback(host), host) }
        for host in ["0.0.0.0", "10.0.0.1", "127.0.0.256", "example.com", "::"] { XCTAssertFalse(ServerConfig.isLoopback(host), host) }
    }

    func testCommandLineOptions() throws {
        let options = try ServerOptions.parse(["--db", "a.db", "--port", "0", "--parallel", "2", "--api-key", "k"])
        let c = try options.resolve(environment: ["RAG_DB": "b.db", "RAG_QUEUE": "5"])
        XCTAssertEqual(c.db, "a.db"); XCTAssertEqual(c.port, 0); XCTAssertEqual(c.parallel, 2)
        XCTAssertEqual(c.queue, 5); XCTAssertEqual(c.apiKey, "k")
    }

    func testNoAdapterFlagBeatsTheEnvironmentAndExcludesAnAdapter() throws {
        let c = try ServerOptions.parse(["--no-adapter"]).resolve(environment: ["RAG_ADAPTER": "/adapters/mine"])
        XCTAssertEqual(c.adapter, ServerConfig.noAdapter)
        XCTAssertThrowsError(try ServerOptions.parse(["--no-adapter", "--adapter", "/adapters/mine"]))
    }
}
