import XCTest
@testable import Ingest

final class FolderScannerTests: XCTestCase {
    private func makeTree() throws -> (TempFolder, TempFolder) {
        let root = try TempFolder()
        try root.write("a.txt", "alpha")
        try root.write("notes/b.md", "# B\nbravo")
        try root.write("notes/deep/c.html", "<p>charlie</p>")
        try root.write("notes/deep/d.pdf", "not really")
        try root.write("image.png", "png")
        try root.write("archive.tar.gz", "gz")
        try root.write(".hidden.txt", "secret")
        try root.write(".git/config.txt", "git")
        try root.write("build/out.txt", "generated")
        let outside = try TempFolder()
        try outside.write("outside.txt", "outside the root")
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: root.url.appendingPathComponent("escape.txt").path,
                                  withDestinationPath: outside.url.appendingPathComponent("outside.txt").path)
        try fm.createSymbolicLink(atPath: root.url.appendingPathComponent("escape-dir").path,
                                  withDestinationPath: outside.url.path)
        try fm.createSymbolicLink(atPath: root.url.appendingPathComponent("inside-link.txt").path,
                                  withDestinationPath: root.url.appendingPathComponent("a.txt").path)
        try fm.createSymbolicLink(atPath: root.url.appendingPathComponent("notes/deep/loop").path,
                                  withDestinationPath: root.url.appendingPathComponent("notes").path)
        try fm.createSymbolicLink(atPath: root.url.appendingPathComponent("broken.txt").path,
                                  withDestinationPath: root.url.appendingPathComponent("missing.txt").path)
        return (root, outside)
    }

    func testWalkSkipsHiddenEscapingLinksAndUnknownExtensions() throws {
        let (root, outside) = try makeTree()
        _ = outside
        let result = try FolderScanner(root: root.url).scan()
        XCTAssertEqual(result.files.map(\.relativePath),
                       ["a.txt", "build/out.txt", "notes/b.md", "notes/deep/c.html", "notes/deep/d.pdf"])
        XCTAssertEqual(result.files.map(\.kind), [.text, .text, .markdown, .html, .pdf])
        XCTAssertEqual(result.skipped[.hidden], 2)              // .hidden.txt and .git
        XCTAssertEqual(result.skipped[.symlinkOutsideRoot], 2)  // escape.txt, escape-dir
        XCTAssertEqual(result.skipped[.brokenSymlink], 1)
        XCTAssertEqual(result.skipped[.unsupportedExtension], 2)
        XCTAssertEqual(result.skippedExtensions, ["png": 1, "gz": 1])
        XCTAssertEqual(result.skipped[.duplicate], 2)           // inside-link.txt → a.txt; loop → notes
        XCTAssertTrue(result.problems.isEmpty)
        let a = try XCTUnwrap(result.files.first)
        XCTAssertEqual(a.size, 5)
        XCTAssertGreaterThan(a.mtimeNanoseconds, 0)
    }

    func testFolderReachedThroughALinkIsListedUnderItsRealPath() throws {
        let root = try TempFolder()
        try root.write("zzz-real/file.txt", "real")
        try FileManager.default.createSymbolicLink(atPath: root.url.appendingPathComponent("aaa-link").path,
                                                   withDestinationPath: root.url.appendingPathComponent("zzz-real").path)
        try root.write("only-linked/inner.txt", "reached twice")
        try FileManager.default.createSymbolicLink(atPath: root.url.appendingPathComponent("zzz-real/back").path,
                                                   withDestinationPath: root.url.path)  // a loop to the root
        let result = try FolderScanner(root: root.url).scan()
        XCTAssertEqual(result.files.map(\.relativePath), ["only-linked/inner.txt", "zzz-real/file.txt"])
        XCTAssertEqual(result.skipped[.duplicate], 2)  // aaa-link and back
    }

    func testHiddenIncludedOnRequest() throws {
        let (root, outside) = try makeTree()
        _ = outside
        let result = try FolderScanner(root: root.url, options: ScanOptions(includeHidden: true)).scan()
        XCTAssertTrue(result.files.map(\.relativePath).contains(".hidden.txt"))
        XCTAssertTrue(result.files.map(\.relativePath).contains(".git/config.txt"))
    }

    func testIncludeAndExcludeGlobs() throws {
        let (root, outside) = try makeTree()
        _ = outside
        let options = ScanOptions(include: ["*.md", "*.txt", "notes/**/*.html"], exclude: ["build"])
        let result = try FolderScanner(root: root.url, options: options).scan()
        XCTAssertEqual(result.files.map(\.relativePath), ["a.txt", "notes/b.md", "notes/deep/c.html"])
        XCTAssertEqual(result.skipped[.excluded], 1)      // the build folder, pruned
        XCTAssertEqual(result.skipped[.notIncluded], 3)   // d.pdf, image.png, archive.tar.gz
    }

    func testOversizeFilesAreReportedNotListed() throws {
        let root = try TempFolder()
        try root.write("small.txt", "tiny")
        try root.write("big.txt", String(repeating: "x", count: 5000))
        let result = try FolderScanner(root: root.url, options: ScanOptions(maxFileSize: 1000)).scan()
        XCTAssertEqual(result.files.map(\.relativePath), ["small.txt"])
        XCTAssertEqual(result.problems.count, 1)
        XCTAssertEqual(result.problems.first?.path, "big.txt")
        XCTAssertEqual(result.problems.first?.kind, .tooLarge)
    }

    func testMissingRootThrows() {
        XCTAssertThrowsError(try FolderScanner(root: URL(fileURLWithPath: "/nonexistent/rag-folder")).scan()) { error in
            XCTAssertEqual((error as? IngestError)?.kind, .unreadable)
        }
    }
}
