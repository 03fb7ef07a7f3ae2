import XCTest
@testable import Ingest

/// A folder full of bad files: every one is reported with its path and reason, the good ones load.
final class BadInputTests: XCTestCase {
    func testFolderIngestGoesOnPastEveryBadFile() throws {
        let root = try TempFolder()
        try root.write("good.md", "# Good\n\nThis one loads.")
        try root.write("empty.txt", "")
        try root.write("binary.txt", Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 0, 1, 2, 3]))
        try root.write("latin1.md", Data([0x63, 0x61, 0x66, 0xE9]))
        try root.write("big.txt", String(repeating: "word ", count: 20_000))
        for name in ["encrypted.pdf", "truncated.pdf", "blank.pdf", "report.pdf"] {
            try root.write("pdfs/\(name)", Data(contentsOf: Fixtures.pdf(name)))
        }
        let options = ScanOptions(maxFileSize: 50_000)
        let scan = try FolderScanner(root: root.url, options: options).scan()
        var problems = scan.problems
        var loaded: [String] = []
        let loader = DocumentLoader(maxFileSize: options.maxFileSize)
        for file in scan.files {
            do { loaded.append(try loader.load(file).path) } catch { problems.append(error) }
        }
        XCTAssertEqual(loaded, ["good.md", "pdfs/report.pdf"])
        let byPath = Dictionary(uniqueKeysWithValues: problems.map { ($0.path, $0) })
        XCTAssertEqual(byPath["big.txt"]?.kind, .tooLarge)
        XCTAssertEqual(byPath["empty.txt"]?.kind, .empty)
        XCTAssertEqual(byPath["binary.txt"]?.kind, .binary)
        XCTAssertEqual(byPath["latin1.md"]?.kind, .badEncoding)
        XCTAssertEqual(byPath["pdfs/encrypted.pdf"]?.kind, .encrypted)
        XCTAssertEqual(byPath["pdfs/truncated.pdf"]?.kind, .corrupt)
        XCTAssertEqual(byPath["pdfs/blank.pdf"]?.kind, .noText)
        XCTAssertEqual(problems.count, 7)
        XCTAssertEqual(byPath["latin1.md"]?.description, "latin1.md: not valid UTF-8 at byte 3 (looks like Latin-1/Windows-1252)")
    }

    func testFileVanishedBetweenScanAndLoad() throws {
        let root = try TempFolder()
        try root.write("gone.txt", "soon deleted")
        let file = try XCTUnwrap(try FolderScanner(root: root.url).scan().files.first)
        try FileManager.default.removeItem(at: file.url)
        let error = try XCTUnwrap(loadError(file))
        XCTAssertEqual(error.path, "gone.txt")
        XCTAssertEqual(error.kind, .unreadable)
    }

    func testUnreadableFileWhenNotRoot() throws {
        guard getuid() != 0 else { throw XCTSkip("root reads files without permission") }
        let root = try TempFolder()
        let url = try root.write("locked.txt", "private")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        let error = try XCTUnwrap(loadError(try root.sourceFile("locked.txt")))
        XCTAssertEqual(error.kind, .unreadable)
        XCTAssertTrue(error.reason.contains("Permission denied"), error.reason)
    }

    func testLoaderRefusesFileThatGrewPastTheLimit() throws {
        let root = try TempFolder()
        try root.write("grew.txt", String(repeating: "x", count: 2000))
        let error = try XCTUnwrap(loadError(try root.sourceFile("grew.txt"), loader: DocumentLoader(maxFileSize: 100)))
        XCTAssertEqual(error.kind, .tooLarge)
        XCTAssertEqual(error.reason, "file too large (2000 bytes, limit 100)")
    }
}
