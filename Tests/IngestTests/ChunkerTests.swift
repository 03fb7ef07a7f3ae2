import XCTest
@testable import Ingest

final class ChunkerTests: XCTestCase {
    let counter = SimpleTokenCounter()

    private func document(_ text: String, kind: FileKind = .text) -> LoadedDocument {
        DocumentAssembler.assemble(path: "doc.txt", kind: kind, title: nil, raw: [RawSegment(text: text)])
    }

    /// Sentences "Sentence number N has exactly seven tokens." style text, numbered to be told apart.
    private func sentences(_ count: Int, from start: Int = 0) -> String {
        (start..<(start + count)).map { "Sentence \($0) talks about retrieval here." }.joined(separator: " ")
    }

    func testSimpleCounter() {
        XCTAssertEqual(counter.countTokens("Hello, world! It's 2024."), 9)  // Hello , world ! It ' s 2024 .
        XCTAssertEqual(counter.countTokens("检索增强生成"), 6)
        XCTAssertEqual(counter.countTokens("  "), 0)
    }

    func testChunksStayWithinTargetAndMapBackToText() throws {
        let paragraphs = (0..<12).map { sentences(3 + $0 % 4, from: $0 * 10) }
        let doc = document(paragraphs.joined(separator: "\n\n"))
        let chunker = Chunker(counter: counter, targetTokens: 40, overlapTokens: 8)
        let chunks = chunker.chunk(doc)
        XCTAssertGreaterThan(chunks.count, 5)
        let scalars = Array(doc.text.unicodeScalars)
        for (i, chunk) in chunks.enumerated() {
            XCTAssertEqual(chunk.index, i)
            XCTAssertLessThanOrEqual(counter.countTokens(chunk.text), 40)
            XCTAssertEqual(chunk.tokenCount, counter.countTokens(chunk.text))
            XCTAssertEqual(String(String.UnicodeScalarView(scalars[chunk.startOffset..<chunk.endOffset])), chunk.text)
            XCTAssertEqual(chunk.text, chunk.text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // Every sentence of the document is in some chunk.
        for n in 0..<120 where doc.text.contains("Sentence \(n) ") {
            XCTAssertTrue(chunks.contains { $0.text.contains("Sentence \(n) talks about retrieval here.") }, "lost \(n)")
        }
    }

    func testOverlapIsWholeSentencesFromThePreviousChunk() throws {
        let doc = document(sentences(30))  // one paragraph of 30 × 7-token sentences
        let chunks = Chunker(counter: counter, targetTokens: 40, overlapTokens: 15).chunk(doc)
        XCTAssertGreaterThan(chunks.count, 3)
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            XCTAssertLessThan(previous.startOffset, next.startOffset)
            XCTAssertLessThan(next.startOffset, previous.endOffset, "no overlap")
            let overlap = String(String.UnicodeScalarView(Array(doc.text.unicodeScalars)[next.startOffset..<previous.endOffset]))
            // Two whole 7-token sentences fit in 15 tokens, three do not.
            XCTAssertEqual(counter.countTokens(overlap), 14, overlap)
            XCTAssertTrue(overlap.hasPrefix("Sentence ") && overlap.hasSuffix("here."), overlap)
            XCTAssertTrue(previous.text.hasSuffix(overlap))
            XCTAssertTrue(next.text.hasPrefix(overlap))
        }
    }

    func testLongSentenceSplitsAtWordsWithWordOverlap() throws {
        let words = (0..<100).map { "w\($0)" }
        let doc = document(words.joined(separator: " ") + ".")
        let chunks = Chunker(counter: counter, targetTokens: 20, overlapTokens: 5).chunk(doc)
        for chunk in chunks {
            XCTAssertLessThanOrEqual(chunk.tokenCount, 20)
            XCTAssertFalse(chunk.text.hasPrefix(" "))
        }
        for (previous, next) in zip(chunks, chunks.dropFirst()) {
            let overlapWords = previous.text.split(separator: " ").suffix(5)
            XCTAssertTrue(next.text.hasPrefix(overlapWords.joined(separator: " ")), next.text)
        }
        XCTAssertTrue(chunks.last?.text.hasSuffix("w99.") ?? false)
    }

    func testChineseWithoutSpaces() throws {
        let sentence = "检索增强生成把外部知识引入语言模型。"  // 17 ideographs + 。 = 18 tokens
        let text = String(repeating: sentence, count: 12) + "最后一句没有句号但是非常长" + String(repeating: "长", count: 60)
        let doc = document(text)
        let chunks = Chunker(counter: counter, targetTokens: 40, overlapTokens: 10).chunk(doc)
        XCTAssertGreaterThan(chunks.count, 5)
        let scalars = Array(doc.text.unicodeScalars)
        for chunk in chunks {
            XCTAssertLessThanOrEqual(chunk.tokenCount, 40)
            XCTAssertEqual(String(String.UnicodeScalarView(scalars[chunk.startOffset..<chunk.endOffset])), chunk.text)
        }
        // Sentence chunks end at 。: two sentences (36 tokens) per chunk while they last.
        XCTAssertEqual(chunks[0].text, sentence + sentence)
        // The run without punctuation is cut by characters; nothing is lost at the end.
        XCTAssertTrue(chunks.last?.text.hasSuffix("长长长") ?? false)
        XCTAssertEqual(chunks.map(\.endOffset).max(), scalars.count)
    }

    func testSectionsAreChunkedOnTheirOwn() throws {
        let markdown = "# A\n\n" + sentences(2) + "\n\n# B\n\n" + sentences(2, from: 50)
        let parsed = MarkdownLoader.parse(markdown)
        let doc = DocumentAssembler.assemble(path: "m.md", kind: .markdown, title: nil, raw: parsed.segments)
        let chunks = Chunker(counter: counter, targetTokens: 200, overlapTokens: 20).chunk(doc)
        XCTAssertEqual(chunks.map(\.sectionTitle), ["A", "B"])  // both would fit in one chunk, but never cross
        XCTAssertTrue(chunks[1].text.hasPrefix("B\n\nSentence 50"))
    }

    func testParagraphsArePackedWholeBeforeSplitting() throws {
        let p1 = sentences(4)          // 28 tokens
        let p2 = sentences(2, from: 9) // 14 tokens
        let doc = document(p1 + "\n\n" + p2)
        let chunks = Chunker(counter: counter, targetTokens: 30, overlapTokens: 0).chunk(doc)
        XCTAssertEqual(chunks.map(\.text), [p1, p2])
    }

    func testTinyTargetStillTerminates() {
        let doc = document("a b c 检索 supercalifragilistic.")
        let chunks = Chunker(counter: counter, targetTokens: 1, overlapTokens: 1).chunk(doc)
        XCTAssertEqual(chunks.map(\.text).joined(separator: "|"), "a|b|c|检|索|supercalifragilistic|.")
    }
}
