import XCTest
@testable import Ingest

final class NormalizationTests: XCTestCase {
    func testNFCAndWhitespace() {
        let decomposed = "Cafe\u{301}\t  au\u{00A0}lait\r\nnext line\r\n\r\n\r\nNew   paragraph.\u{200B}\u{0007}  "
        XCTAssertEqual(TextNormalizer.normalize(decomposed), "Café au lait next line\n\nNew paragraph.")
        XCTAssertEqual(TextNormalizer.normalize("  \n\n  lead"), "lead")
    }

    func testDehyphenation() {
        let lines = ["The second stage of the retrie-", "val pipeline reranks.", "An X-", "Ray image.",
                     "Lists:", "- item", "multi-", "line-", "break"]
        XCTAssertEqual(TextNormalizer.dehyphenate(lines),
                       ["The second stage of the retrieval pipeline reranks.", "An X-", "Ray image.",
                        "Lists:", "- item", "multilinebreak"])
    }

    func testRunningHeadersAndFootersRemoved() {
        let bodies = ["Dense vectors.", "Sparse scores.", "Fusion ranks.", "Chunks overlap.", "Pages count."]
        let pages = (1...5).map { n in ["Handbook of Retrieval", bodies[n - 1], "Page \(n) of 5"] }
        let cleaned = PageCleanup.removeRunningHeadersAndFooters(pages)
        XCTAssertEqual(cleaned, bodies.map { [$0] })
        // Alternating "N / Title" and "Title / N" (book style) headers go too.
        let body = [["Plots are made with plot.", "Splot draws surfaces."], ["Set terminal first.", "Then output."],
                    ["Fits use fit.", "Variables are global."], ["Loops use do for.", "Arrays are new."],
                    ["Macros expand.", "Strings concatenate."], ["The end.", "Index follows."]]
        let book = (1...6).map { n in
            (n % 2 == 0 ? ["\(n)", "gnuplot 5.4"] : ["gnuplot 5.4", "\(n)"]) + body[n - 1]
        }
        XCTAssertEqual(PageCleanup.removeRunningHeadersAndFooters(book), body)
        // Two pages are too few to tell a header from content.
        let two = [["Same", "a"], ["Same", "b"]]
        XCTAssertEqual(PageCleanup.removeRunningHeadersAndFooters(two), two)
    }

    func testLineKeyIgnoresNumbers() {
        XCTAssertEqual(PageCleanup.lineKey("Page 3 of 10"), PageCleanup.lineKey("Page 12  of 10"))
        XCTAssertNotEqual(PageCleanup.lineKey("Page 3"), PageCleanup.lineKey("Chapter 3"))
    }
}
