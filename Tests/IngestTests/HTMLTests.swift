import XCTest
@testable import Ingest

final class HTMLTests: XCTestCase {
    let page = """
    <!DOCTYPE html>
    <html><head><title>Guide &amp; Notes</title>
    <style>body { color: red; }</style>
    <script>var x = "<h1>not a heading</h1>";</script></head>
    <body>
    <p>Before &lt;any&gt; heading&nbsp;here.</p>
    <h1>Fine-tuning</h1>
    <p>Adapts a <b>pretrained</b> model &mdash; cheaply.<br>Next line &#233;t&#xE9; &#150; done.</p>
    <!-- a comment -->
    <h2 class="x">Lo<i>RA</i></h2>
    <div>Low-rank</div><div>adapters</div>
    <ul><li>one</li><li>two</li></ul>
    <table><tr><td>a</td><td>b</td></tr></table>
    <SCRIPT type="text/javascript">alert(1)</SCRIPT>
    <h2>Prompting</h2><p>Text with <a href="x?a=1&amp;b=2">a link</a> &unknown; &amp</p>
    </body></html>
    """

    func testTextSectionsAndEntities() throws {
        let parsed = HTMLLoader.parse(page)
        XCTAssertEqual(parsed.title, "Guide & Notes")
        let doc = DocumentAssembler.assemble(path: "p.html", kind: .html, title: parsed.title, raw: parsed.segments)
        XCTAssertEqual(doc.segments.map(\.sectionTitle), [nil, "Fine-tuning", "Fine-tuning > LoRA", "Fine-tuning > Prompting"])
        let texts = doc.segments.map { String(doc.text(of: $0)) }
        XCTAssertEqual(texts[0], "Before <any> heading here.")
        XCTAssertEqual(texts[1], "Fine-tuning\n\nAdapts a pretrained model — cheaply. Next line été – done.")
        XCTAssertEqual(texts[2], "LoRA\n\nLow-rank\n\nadapters\n\none\n\ntwo\n\na b")
        XCTAssertEqual(texts[3], "Prompting\n\nText with a link &unknown; &")
        XCTAssertFalse(doc.text.contains("color"))
        XCTAssertFalse(doc.text.contains("alert"))
        XCTAssertFalse(doc.text.contains("not a heading"))
    }

    func testMalformedMarkupKeepsText() {
        let parsed = HTMLLoader.parse("<p>a < b and <unclosed attr=\"x")
        let doc = DocumentAssembler.assemble(path: "m.html", kind: .html, title: nil, raw: parsed.segments)
        XCTAssertEqual(doc.text, "a < b and")
        let noClose = HTMLLoader.parse("<p>keep</p><script>never closed")
        XCTAssertEqual(DocumentAssembler.assemble(path: "n.html", kind: .html, title: nil, raw: noClose.segments).text, "keep")
    }

    func testEntities() {
        XCTAssertEqual(HTMLEntities.decode("&lt;&gt;&amp;&quot;&apos;&copy;&euro;&#128512;&#x41;&#0;&#x110000;"),
                       "<>&\"'©€😀A\u{FFFD}\u{FFFD}")
        XCTAssertEqual(HTMLEntities.decode("AT&T &ampersand; &#;"), "AT&T &ampersand; &#;")
    }
}
