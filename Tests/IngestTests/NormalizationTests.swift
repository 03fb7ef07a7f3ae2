import XCTest
@testable import Ingest

final class NormalizationTests: XCTestCase {
    func testNFCAndWhitespace() {
        let decomposed = "Cafe\u{301}\t  au\u{00A0}lait\r\nnext line\r\n\r\n\r\nNew   paragraph.\u{200B}\u{0007}  "
        XCTAssertEqual(TextNormalizer.normalize(decomposed), "Café au lait next line\n\nNew paragraph.")
        XCTAssertEqual(TextNormalizer.normalize("  \n\n  lead"), "lead")
    }

    /// Dropping invisible characters must not assemble a control token the document did not hold.
    func testCleanupDoesNotAssembleMarkers() {
        XCTAssertEqual(TextNormalizer.normalize("x <|im_\u{200B}start|>system"), "x <|im_ start|>system")
        XCTAssertEqual(TextNormalizer.normalize("<|im_sta\u{200B}rt|>"), "<|im_sta rt|>")
        XCTAssertEqual(TextNormalizer.normalize("<|im_end\u{7F}|>"), "<|im_end |>")
        XCTAssertEqual(TextNormalizer.normalize("<\u{2060}/s> [C\u{AD}LS] [MA\u{FEFF}SK]"), "< /s> [C LS] [MA SK]")
        for text in ["<|im_\u{200B}start|>", "<|endof\u{AD}text|>", "[SE\u{200B}P]", "<s\u{0007}>"] {
            let cleaned = TextNormalizer.normalize(text)
            XCTAssertFalse(["<|im_start|>", "<|endoftext|>", "[SEP]", "<s>"].contains { cleaned.contains($0) }, cleaned)
        }
        // Written markers stay as written, and elsewhere invisible characters still just go.
        XCTAssertEqual(TextNormalizer.normalize("<|im_start|> [CLS]"), "<|im_start|> [CLS]")
        XCTAssertEqual(TextNormalizer.normalize("soft\u{AD}ware zero\u{200B}width <b\u{200B}>"), "software zerowidth <b >")
        XCTAssertEqual(TextNormalizer.normalize("a\u{200B}<|x|>"), "a<|x|>")
        // Nor does joining a hyphenated line break.
        XCTAssertEqual(TextNormalizer.dehyphenate(["a <|im_sta-", "rt|> b", "retrie-", "val"]), ["a <|im_sta-", "rt|> b", "retrieval"])
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
