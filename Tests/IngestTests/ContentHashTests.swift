import XCTest
@testable import Ingest

final class ContentHashTests: XCTestCase {
    // FIPS 180-4 / NIST example vectors.
    func testKnownVectors() {
        XCTAssertEqual(ContentHash.sha256(of: ""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(ContentHash.sha256(of: "abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(ContentHash.sha256(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(ContentHash.sha256(of: "The quick brown fox jumps over the lazy dog"),
                       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    func testMillionAsFromAFileInBlocks() throws {
        let folder = try TempFolder()
        let url = try folder.write("a.txt", Data(repeating: UInt8(ascii: "a"), count: 1_000_000))
        XCTAssertEqual(try ContentHash.sha256(of: url), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesAcrossBlockBoundaries() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = ContentHash.sha256(of: bytes)
        for split in [1, 55, 56, 63, 64, 65, 127, 999] {
            var hasher = SHA256()
            hasher.update(bytes[..<split])
            hasher.update(bytes[split...])
            let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            XCTAssertEqual(digest, whole, "split at \(split)")
        }
    }

    func testMissingFileIsReported() {
        XCTAssertThrowsError(try ContentHash.sha256(of: URL(fileURLWithPath: "/nonexistent/x.txt"))) { error in
            let e = error as? IngestError
            XCTAssertEqual(e?.kind, .unreadable)
            XCTAssertEqual(e?.path, "/nonexistent/x.txt")
        }
    }
}
