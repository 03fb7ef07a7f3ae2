import XCTest
@testable import Embedder

final class PairMiningTests: XCTestCase {
    let chunks = [
        ChunkRecord(text: "HNSW builds a layered graph of the vectors. Search starts at the top layer and descends greedily. Each layer is a proximity graph with a fixed number of neighbours.",
                    sectionTitle: "Hierarchical navigable small worlds", documentPath: "indexes/hnsw.md"),
        ChunkRecord(text: "Quantization blocks\nEach block stores thirty-two weights with one scale.\nThe scale is a half-precision float.",
                    page: 3, documentPath: "models/quant.pdf"),
        ChunkRecord(text: "Second chunk of page three, not the first one on it.\nIt has more text here.", page: 3, documentPath: "models/quant.pdf"),
        ChunkRecord(text: "BM25 scores terms by frequency. Rare terms weigh more than common ones. Long documents are normalised by length.",
                    sectionTitle: nil, documentPath: "retrieval/bm25.md"),
    ]

    func testRulesAndDeterminism() {
        let miner = PairMiner(seed: 4, heldOutFraction: 0)
        let (train, heldOut) = miner.pairs(from: chunks)
        XCTAssertTrue(heldOut.isEmpty)
        XCTAssertTrue(train.contains(TrainingPair(query: "Hierarchical navigable small worlds", positive: chunks[0].text)))
        // the PDF page's first lines -> the rest, only for the page's first chunk
        XCTAssertTrue(train.contains(TrainingPair(query: "Quantization blocks Each block stores thirty-two weights with one scale.",
                                                  positive: "The scale is a half-precision float.")))
        XCTAssertFalse(train.contains { $0.query.hasPrefix("Second chunk") && $0.positive == "It has more text here." })
        // a sentence -> its chunk without it
        let cloze = train.filter { $0.positive.hasPrefix("BM25") || $0.query.hasPrefix("BM25") || chunks[3].text.contains($0.query) }
        XCTAssertEqual(cloze.count, 1)
        if let pair = cloze.first {
            XCTAssertFalse(pair.positive.contains(pair.query))
            XCTAssertEqual(Set((pair.query + " " + pair.positive).split(separator: " ")), Set(chunks[3].text.split(separator: " ")))
        }
        XCTAssertEqual(miner.pairs(from: chunks).train, train)
        // held-out split takes whole chunks
        let split = PairMiner(seed: 4, heldOutFraction: 0.5).pairs(from: chunks)
        XCTAssertEqual(Set(split.train + split.heldOut), Set(train))
        XCTAssertTrue(Set(split.train.map(\.positive)).isDisjoint(with: split.heldOut.map(\.positive)))
    }

    func testSentenceSplitting() {
        XCTAssertEqual(PairMiner.sentences(of: "One. Two! Three? 3.14 stays. 四。五！"),
                       ["One.", "Two!", "Three?", "3.14 stays.", "四。", "五！"])
    }
}

final class DenseRetrievalTests: XCTestCase {
    func testEachTextRetrievesItselfFirst() throws {
        let encoder = try tinyEncoder(seed: 13)
        let corpus = tinyTexts.enumerated().filter { !$0.element.isEmpty }.map { (id: "doc\($0.offset)", text: $0.element) }
        let ranked = try DenseRetrieval.rank(queries: corpus.map(\.text), corpus: corpus, encoder: encoder, k: 3)
        XCTAssertEqual(ranked.map(\.first), corpus.map(\.id))
        XCTAssertTrue(ranked.allSatisfy { $0.count == 3 && Set($0).count == 3 })
    }
}
