import XCTest
import RAG
@testable import RAGServer

final class MetricsTests: XCTestCase {
    func testExpositionFormat() {
        let m = Metrics()
        m.recordRequest(route: "/v1/retrieve", method: "POST", status: 200, seconds: 0.02)
        m.recordRequest(route: "/v1/retrieve", method: "POST", status: 200, seconds: 3)
        m.recordRequest(route: "/v1/\"odd\"", method: "GET", status: 404, seconds: 0.001)
        m.recordGeneration(Usage(promptTokens: 10, completionTokens: 4))
        var g = Metrics.Gauges()
        g.queueDepth = 2; g.documents = 7; g.chunks = 70; g.ready = true
        let text = m.exposition(g)
        XCTAssertTrue(text.contains("rag_http_requests_total{route=\"/v1/retrieve\",method=\"POST\",status=\"200\"} 2\n"))
        XCTAssertTrue(text.contains("route=\"/v1/\\\"odd\\\"\""), "label values are escaped")
        XCTAssertTrue(text.contains("rag_http_request_duration_seconds_bucket{route=\"/v1/retrieve\",le=\"0.025\"} 1\n"))
        XCTAssertTrue(text.contains("rag_http_request_duration_seconds_bucket{route=\"/v1/retrieve\",le=\"5\"} 2\n"))
        XCTAssertTrue(text.contains("rag_http_request_duration_seconds_bucket{route=\"/v1/retrieve\",le=\"+Inf\"} 2\n"))
        XCTAssertTrue(text.contains("rag_http_request_duration_seconds_sum{route=\"/v1/retrieve\"} 3.02\n"))
        XCTAssertTrue(text.contains("rag_generated_tokens_total 4\n"))
        XCTAssertTrue(text.contains("rag_generation_queue_depth 2\n"))
        XCTAssertTrue(text.contains("rag_documents 7\n"))
        // Every sample line belongs to a declared metric family.
        let declared = Set(text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = line.prefix { $0 != "{" && $0 != " " }
            let family = ["_bucket", "_sum", "_count"].reduce(String(name)) { n, s in n.hasSuffix(s) && !declared.contains(Substring(n)) ? String(n.dropLast(s.count)) : n }
            XCTAssertTrue(declared.contains(Substring(family)), String(line))
        }
    }
}
