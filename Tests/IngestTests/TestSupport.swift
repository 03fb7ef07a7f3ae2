import Foundation
import XCTest
@testable import Ingest

/// A fresh folder under the system temp folder, removed by `tearDown` of the test that made it.
final class TempFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ingest-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> URL {
        try write(relative, Data(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ data: Data) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
        return file
    }

    func sourceFile(_ relative: String) throws -> SourceFile {
        let file = url.appendingPathComponent(relative)
        guard let source = SourceFile(url: file, relativePath: relative) else {
            throw XCTSkip("no source file for \(relative)")
        }
        return source
    }
}

enum Fixtures {
    static func pdf(_ name: String) throws -> URL {
        guard let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            throw NSError(domain: "IngestTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "Fixtures folder missing"])
        }
        return folder.appendingPathComponent("pdf").appendingPathComponent(name)
    }

    static func pdfSource(_ name: String) throws -> SourceFile {
        let url = try pdf(name)
        guard let file = SourceFile(url: url, relativePath: "pdf/\(name)") else {
            throw NSError(domain: "IngestTests", code: 2, userInfo: [NSLocalizedDescriptionKey: "\(name) missing"])
        }
        return file
    }
}

/// Loads, expecting an IngestError; returns it (fails the test if loading succeeds).
func loadError(_ file: SourceFile, loader: DocumentLoader = DocumentLoader(),
               line: UInt = #line) -> IngestError? {
    do {
        let doc = try loader.load(file)
        XCTFail("expected an error, loaded \(doc.text.count) characters", line: line)
        return nil
    } catch {
        return error
    }
}
