// A test case with a fresh temporary folder per test (removed afterwards).

import Foundation
import XCTest

class TemporaryFolderTestCase: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("generator-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }
}

extension TemporaryFolderTestCase {
    /// One JSON object as a line of a JSONL file (keys sorted).
    func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    /// `lines` written as the file `name` in the test's folder.
    func write(_ lines: [String], _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}
