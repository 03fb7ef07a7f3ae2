import XCTest
@testable import RAGServer

final class MultipartTests: XCTestCase {
    func testBoundaryFromContentType() throws {
        XCTAssertEqual(try Multipart.boundary(contentType: "multipart/form-data; boundary=abc"), "abc")
        XCTAssertEqual(try Multipart.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c")
        XCTAssertThrowsError(try Multipart.boundary(contentType: "application/json"))
        XCTAssertThrowsError(try Multipart.boundary(contentType: "multipart/form-data"))
        XCTAssertThrowsError(try Multipart.boundary(contentType: nil))
    }

    func testParsesFieldsAndBinaryFile() throws {
        let binary: [UInt8] = [0, 13, 10, 45, 45, 255, 13, 10]   // contains CRLF and "--"
        var body = Array("preamble\r\n--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nhello\r\n".utf8)
        body += Array("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r\\\"e;port.pdf\"\r\nContent-Type: application/pdf\r\n\r\n".utf8)
        body += binary
        body += Array("\r\n--B--\r\nepilogue".utf8)
        let parts = try Multipart.parse(body, boundary: "B")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0].name, "title")
        XCTAssertEqual(parts[0].body, Array("hello".utf8))
        XCTAssertNil(parts[0].fileName)
        XCTAssertEqual(parts[1].name, "file")
        XCTAssertEqual(parts[1].fileName, "r\"e;port.pdf")
        XCTAssertEqual(parts[1].contentType, "application/pdf")
        XCTAssertEqual(parts[1].body, binary)
    }

    func testEmptyPartAndPartWithoutHeaders() throws {
        let body = Array("--B\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n\r\n--B\r\n\r\nraw\r\n--B--".utf8)
        let parts = try Multipart.parse(body, boundary: "B")
        XCTAssertEqual(parts.map(\.body), [[], Array("raw".utf8)])
        XCTAssertNil(parts[1].name)
    }

    func testMalformedBodies() {
        for text in ["no boundary here", "--B\r\nContent-Disposition: form-data\r\n\r\nunterminated", "--Bjunk\r\n\r\nx\r\n--B--",
                     "--B\r\nbad header line\r\n\r\nx\r\n--B--", "text--B\r\n\r\nx\r\n--B--"] {
            XCTAssertThrowsError(try Multipart.parse(Array(text.utf8), boundary: "B"), text)
        }
    }

    func testFindMatchesNaiveSearch() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let hay = (0..<Int.random(in: 0..<60, using: &rng)).map { _ in UInt8.random(in: 0...2, using: &rng) }
            let needle = (0..<Int.random(in: 1..<4, using: &rng)).map { _ in UInt8.random(in: 0...2, using: &rng) }
            let from = Int.random(in: 0...max(hay.count, 0), using: &rng)
            var expected: Int? = nil
            if hay.count >= needle.count, from <= hay.count - needle.count {
                for i in from...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { expected = i; break }
            }
            XCTAssertEqual(Multipart.find(needle, in: hay, from: from), expected, "\(hay) \(needle) \(from)")
        }
    }
}
