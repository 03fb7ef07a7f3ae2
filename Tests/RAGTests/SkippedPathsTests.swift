import Foundation
import XCTest
@testable import RAG
#if canImport(Glibc)
import Glibc
#endif

/// Ingest's report names each link, link loop and special file it left out, by path.
final class SkippedPathsTests: XCTestCase {
    func testReportNamesSkippedLinksLoopsAndSpecialFiles() throws {
        let docs = try TempFolder(), outside = try TempFolder(), store = try TempFolder()
        try docs.write("notes/real.md", "# Real\n\nThis file is read.")
        let secret = try outside.write("secret.md", "# Outside\n\nNot part of the folder.")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: docs.url.appendingPathComponent("notes/outside.md").path, withDestinationPath: secret.path)
        try fm.createSymbolicLink(atPath: docs.url.appendingPathComponent("dangling.md").path,
                                  withDestinationPath: docs.url.appendingPathComponent("gone.md").path)
        try fm.createSymbolicLink(atPath: docs.url.appendingPathComponent("notes/loop").path, withDestinationPath: docs.url.path)
        XCTAssertEqual(mkfifo(docs.url.appendingPathComponent("pipe.md").path, 0o600), 0)

        let pipeline = try TestModels.pipeline(in: store.url)
        let report = try pipeline.ingest(folder: docs.url, progress: { _ in })
        XCTAssertEqual(report.added, 1)
        let named = Dictionary(uniqueKeysWithValues: report.skippedFiles.map { ($0.path, $0.reason) })
        XCTAssertEqual(Set(named.keys), ["notes/outside.md", "dangling.md", "notes/loop", "pipe.md"], "\(report.skippedFiles)")
        XCTAssertTrue(named["notes/outside.md"]?.contains("outside the folder") ?? false)
        XCTAssertTrue(named["dangling.md"]?.contains("broken") ?? false)
        XCTAssertTrue(named["notes/loop"]?.contains("loop") ?? false)
        XCTAssertTrue(named["pipe.md"]?.contains("not a regular file") ?? false)
    }
}
