import Foundation
import XCTest
@testable import Ingest

final class TextEncodingTests: XCTestCase {
    let sample = "Café naïve — 検索 😀\nsecond line"

    private func load(_ name: String, _ data: Data) throws -> LoadedDocument {
        let folder = try TempFolder()
        try folder.write(name, data)
        return try DocumentLoader().load(folder.sourceFile(name))
    }

    private func loadFailure(_ name: String, _ data: Data) throws -> IngestError? {
        let folder = try TempFolder()
        try folder.write(name, data)
        return loadError(try folder.sourceFile(name))
    }

    func testUTF8WithAndWithoutBOM() throws {
        let expected = "Café naïve — 検索 😀 second line"
        XCTAssertEqual(try load("plain.txt", Data(sample.utf8)).text, expected)
        XCTAssertEqual(try load("bom.txt", Data([0xEF, 0xBB, 0xBF]) + Data(sample.utf8)).text, expected)
    }

    func testUTF16LittleAndBigEndianWithBOM() throws {
        let expected = "Café naïve — 検索 😀 second line"
        var le = Data([0xFF, 0xFE]), be = Data([0xFE, 0xFF])
        for unit in sample.utf16 {
            le += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
            be += [UInt8(unit >> 8), UInt8(unit & 0xFF)]
        }
        XCTAssertEqual(try load("le.txt", le).text, expected)
        XCTAssertEqual(try load("be.txt", be).text, expected)
    }

    func testMultiByteCharactersSplitAcrossReadBlocks() throws {
        // 1 MB blocks: put a 4-byte scalar across the first block boundary.
        let prefix = String(repeating: "a", count: (1 << 20) - 2)
        let doc = try load("big.txt", Data((prefix + "😀 end").utf8))
        XCTAssertTrue(doc.text.hasSuffix("a😀 end"))
        XCTAssertEqual(doc.text.unicodeScalars.count, prefix.count + 5)
    }

    func testLatin1IsReportedByName() throws {
        let latin1 = Data("Caf".utf8) + Data([0xE9]) + Data(" au lait".utf8)
        let error = try XCTUnwrap(try loadFailure("latin1.txt", latin1))
        XCTAssertEqual(error.path, "latin1.txt")
        XCTAssertEqual(error.kind, .badEncoding)
        XCTAssertEqual(error.reason, "not valid UTF-8 at byte 3 (looks like Latin-1/Windows-1252)")
    }

    func testWindows1252QuotesAreReportedByName() throws {
        let cp1252 = Data([0x93]) + Data("quoted".utf8) + Data([0x94])
        let error = try XCTUnwrap(try loadFailure("quotes.md", cp1252))
        XCTAssertEqual(error.kind, .badEncoding)
        XCTAssertTrue(error.reason.contains("Windows-1252"), error.reason)
    }

    func testBinaryWithTextExtension() throws {
        var bytes = Data("ELF".utf8)
        bytes += Data((0..<200).map { UInt8($0 % 7) })
        let error = try XCTUnwrap(try loadFailure("program.txt", bytes))
        XCTAssertEqual(error.kind, .binary)
        XCTAssertEqual(error.reason, "binary file (NUL bytes)")
        XCTAssertEqual(error.path, "program.txt")
    }

    func testUTF16WithoutBOMIsNamed() throws {
        var le = Data()
        for unit in "plain ascii text as utf-16".utf16 { le += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let error = try XCTUnwrap(try loadFailure("nobom.txt", le))
        XCTAssertEqual(error.kind, .binary)
        XCTAssertTrue(error.reason.contains("UTF-16 without a byte-order mark"), error.reason)
    }

    func testInvalidUTF16IsReported() throws {
        let lonelySurrogate = Data([0xFF, 0xFE, 0x41, 0x00, 0x00, 0xDC, 0x42, 0x00])
        let error = try XCTUnwrap(try loadFailure("bad16.txt", lonelySurrogate))
        XCTAssertEqual(error.kind, .badEncoding)
        XCTAssertTrue(error.reason.contains("UTF-16LE"), error.reason)
    }

    func testUTF8ValidatorRejectsOverlongsAndSurrogates() {
        func scan(_ bytes: [UInt8]) -> TextDecoding.UTF8Scan {
            bytes.withUnsafeBufferPointer { TextDecoding.validateUTF8($0, isFinal: true) }
        }
        XCTAssertEqual(scan([0x41, 0xC0, 0x80]), .invalid(at: 1))          // overlong NUL
        XCTAssertEqual(scan([0xED, 0xA0, 0x80]), .invalid(at: 0))          // surrogate U+D800
        XCTAssertEqual(scan([0xF4, 0x90, 0x80, 0x80]), .invalid(at: 0))    // above U+10FFFF
        XCTAssertEqual(scan([0xE2, 0x82, 0xAC]), .valid(completeBytes: 3)) // €
        XCTAssertEqual(scan([0x61, 0xE2, 0x82]), .invalid(at: 1))          // truncated at the end
        XCTAssertEqual([0x61, 0xE2, 0x82].withUnsafeBufferPointer { TextDecoding.validateUTF8($0, isFinal: false) },
                       .valid(completeBytes: 1))                            // the rest may come next block
    }

    func testEmptyAndWhitespaceOnlyFiles() throws {
        let empty = try XCTUnwrap(try loadFailure("empty.txt", Data()))
        XCTAssertEqual(empty.kind, .empty)
        XCTAssertEqual(empty.reason, "empty file")
        let blank = try XCTUnwrap(try loadFailure("blank.md", Data(" \n\n\t \n".utf8)))
        XCTAssertEqual(blank.kind, .empty)
        let markupOnly = try XCTUnwrap(try loadFailure("markup.html", Data("<html><script>x()</script></html>".utf8)))
        XCTAssertEqual(markupOnly.kind, .empty)
    }
}
