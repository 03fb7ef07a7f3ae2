import Foundation
import XCTest

/// Runs scripts/openai_compat.py — the official `openai` Python client — against the server
/// started in-process on `TestBase.makeService()`. Skipped where python3 or the `openai` package
/// is missing (pip install openai).
final class OpenAICompatTests: XCTestCase {
    func testOfficialPythonClient() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = root.appendingPathComponent("scripts/openai_compat.py").path
        guard try await runCommand(["python3", "-c", "import openai"]).status == 0 else {
            throw XCTSkip("python3 with the openai package is not available (pip install openai)")
        }
        let server = try await ServerHarness.start(configure: { $0.apiKey = "compat-key" })
        let result = try await runCommand(["python3", script, "--base-url", "http://127.0.0.1:\(server.port)/v1",
                                    "--api-key", "compat-key", "--question", TestBase.question])
        try await server.stop()
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("all checks passed"), result.output)
    }
}
