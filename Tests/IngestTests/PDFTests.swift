import XCTest
@testable import Ingest

/// Reads the committed PDFs made by scripts/fixtures/make_ingest_pdfs.sh (groff + qpdf).
final class PDFTests: XCTestCase {
    func testPagesHeadersFootersAndHyphenation() throws {
        let doc = try DocumentLoader().load(Fixtures.pdfSource("report.pdf"))
        XCTAssertEqual(doc.kind, .pdf)
        XCTAssertEqual(doc.pageCount, 5)
        // Page 3 has only the running header and footer: no segment, but later pages keep their numbers.
        XCTAssertEqual(doc.segments.map(\.page), [1, 2, 4, 5])
        XCTAssertFalse(doc.text.contains("RAG Field Notes"), "running header left in the text")
        XCTAssertFalse(doc.text.contains("Draft 3"))
        XCTAssertFalse(doc.text.contains("Page 1"), "running footer left in the text")
        XCTAssertTrue(doc.text.contains("The second stage of the retrieval pipeline reranks the candidates."))
        XCTAssertTrue(doc.text.contains("Page numbers must still count it."), "body text with 'Page' must stay")
        let page1 = String(doc.text(of: doc.segments[0]))
        XCTAssertEqual(page1, """
            Alpha chapter

            The alpha page explains how a retrieval system finds passages. Dense vectors and lexical scores \
            are fused before ranking.

            The second stage of the retrieval pipeline reranks the candidates.

            Alpha ends here.
            """)
        XCTAssertEqual(String(doc.text(of: doc.segments[2])),
                       "Delta chapter\n\nThe delta page follows an empty page. Page numbers must still count it.")
    }

    func testChunksCarryPageNumbers() throws {
        let doc = try DocumentLoader().load(Fixtures.pdfSource("report.pdf"))
        let chunks = Chunker(targetTokens: 16, overlapTokens: 4).chunk(doc)
        XCTAssertEqual(Set(chunks.compactMap(\.page)), [1, 2, 4, 5])
        for chunk in chunks {
            let segment = try XCTUnwrap(doc.segments.first { $0.page == chunk.page })
            XCTAssertTrue(segment.startOffset <= chunk.startOffset && chunk.endOffset <= segment.endOffset,
                          "chunk crosses its page")
        }
        XCTAssertEqual(chunks.first { $0.text.contains("delta") }?.page, 4)
    }

    func testEncryptedPDFIsReported() throws {
        let error = try XCTUnwrap(loadError(try Fixtures.pdfSource("encrypted.pdf")))
        XCTAssertEqual(error.path, "pdf/encrypted.pdf")
        XCTAssertEqual(error.kind, .encrypted)
        XCTAssertEqual(error.reason, "encrypted PDF (Document is encrypted)")
    }

    func testTruncatedAndFakePDFsAreReportedWithPopplersMessage() throws {
        for name in ["truncated.pdf", "notapdf.pdf"] {
            let error = try XCTUnwrap(loadError(try Fixtures.pdfSource(name)))
            XCTAssertEqual(error.path, "pdf/\(name)")
            XCTAssertEqual(error.kind, .corrupt)
            XCTAssertEqual(error.reason, "corrupt PDF (PDF document is damaged)")
        }
    }

    func testPDFWithoutTextIsReported() throws {
        let error = try XCTUnwrap(loadError(try Fixtures.pdfSource("blank.pdf")))
        XCTAssertEqual(error.kind, .noText)
        XCTAssertEqual(error.reason, "PDF has no extractable text (1 pages; scanned images?)")
    }

    func testEmptyPDFFile() throws {
        let folder = try TempFolder()
        try folder.write("zero.pdf", Data())
        let error = try XCTUnwrap(loadError(try folder.sourceFile("zero.pdf")))
        XCTAssertEqual(error.kind, .empty)
        XCTAssertEqual(error.path, "zero.pdf")
    }
}
