import XCTest
@testable import Ingest

final class MarkdownTests: XCTestCase {
    let source = """
    ---
    title: Hidden front matter
    tags: [a, b]
    ---
    Intro before any heading.

    # Fine-tuning

    Fine-tuning adapts a **pretrained** model. See [the guide](https://example.com/guide) and ![a diagram](d.png).

    ## LoRA

    LoRA adds low-rank
    matrices to `attention` layers.

    - first item
    - second item

    ```python
    # not a heading
    print("code stays")
    ```

    Full fine-tuning
    ----------------

    Updates every weight.

    # Retrieval ###

    | a | b |
    |---|---|
    | 1 | 2 |
    """

    func testSectionsTitlesAndText() throws {
        let parsed = MarkdownLoader.parse(source)
        XCTAssertEqual(parsed.title, "Fine-tuning")
        let doc = DocumentAssembler.assemble(path: "doc.md", kind: .markdown, title: parsed.title, raw: parsed.segments)
        XCTAssertEqual(doc.segments.map(\.sectionTitle),
                       [nil, "Fine-tuning", "Fine-tuning > LoRA", "Fine-tuning > Full fine-tuning", "Retrieval"])
        let texts = doc.segments.map { String(doc.text(of: $0)) }
        XCTAssertEqual(texts[0], "Intro before any heading.")
        XCTAssertEqual(texts[1], "Fine-tuning\n\nFine-tuning adapts a pretrained model. See the guide and a diagram.")
        XCTAssertEqual(texts[2], "LoRA\n\nLoRA adds low-rank matrices to attention layers.\n\nfirst item\n\nsecond item"
                       + "\n\n# not a heading print(\"code stays\")")
        XCTAssertEqual(texts[3], "Full fine-tuning\n\nUpdates every weight.")
        XCTAssertEqual(texts[4], "Retrieval\n\n| a | b |\n\n| 1 | 2 |")
        XCTAssertFalse(doc.text.contains("front matter"))
    }

    func testSegmentOffsetsPointIntoText() throws {
        let parsed = MarkdownLoader.parse(source)
        let doc = DocumentAssembler.assemble(path: "doc.md", kind: .markdown, title: nil, raw: parsed.segments)
        let scalars = Array(doc.text.unicodeScalars)
        for segment in doc.segments {
            let sliced = String(String.UnicodeScalarView(scalars[segment.startOffset..<segment.endOffset]))
            XCTAssertEqual(sliced, String(doc.text(of: segment)))
        }
    }

    func testATXHeadingRules() {
        XCTAssertEqual(MarkdownLoader.atxHeading("### Title ###")?.1, "Title")
        XCTAssertEqual(MarkdownLoader.atxHeading("## C#")?.1, "C#")
        XCTAssertNil(MarkdownLoader.atxHeading("#hashtag"))
        XCTAssertNil(MarkdownLoader.atxHeading("####### seven"))
    }
}
