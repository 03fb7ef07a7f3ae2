import Foundation
import RAG

/// Counters and histograms kept in memory and written in Prometheus' text exposition format
/// (version 0.0.4): `# HELP`, `# TYPE`, then one `name{labels} value` line per series.
public final class Metrics: @unchecked Sendable {
    struct RequestKey: Hashable, Comparable {
        var route, method, status: String
        static func < (a: Self, b: Self) -> Bool { (a.route, a.method, a.status) < (b.route, b.method, b.status) }
    }

    /// A cumulative histogram with fixed upper bounds.
    struct Histogram {
        static let latencyBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
        var counts = [Int](repeating: 0, count: latencyBounds.count)
        var sum = 0.0
        var count = 0
        mutating func observe(_ v: Double) {
            for (i, b) in Self.latencyBounds.enumerated() where v <= b { counts[i] += 1 }
            sum += v; count += 1
        }
    }

    private let lock = NSLock()
    private var requests: [RequestKey: Int] = [:]
    private var latency: [String: Histogram] = [:]
    private var timeToFirstToken = Histogram()
    private var generatedTokens = 0
    private var promptTokens = 0

    public init() {}

    public func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        lock.withLock {
            requests[RequestKey(route: route, method: method, status: String(status)), default: 0] += 1
            latency[route, default: Histogram()].observe(seconds)
        }
    }

    public func recordGeneration(_ usage: Usage) {
        lock.withLock { promptTokens += usage.promptTokens; generatedTokens += usage.completionTokens }
    }

    public func recordTimeToFirstToken(_ seconds: Double) {
        lock.withLock { timeToFirstToken.observe(seconds) }
    }

    /// Values read at scrape time from the parts that own them.
    public struct Gauges: Sendable {
        public var queueDepth = 0, activeGenerations = 0, slots = 0
        public var ready = false
        public var documents: Int?, chunks: Int?
        public init() {}
    }

    public func exposition(_ g: Gauges) -> String {
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func histogram(_ name: String, labels: String, _ h: Histogram) {
            let sep = labels.isEmpty ? "" : ","
            for (i, b) in Histogram.latencyBounds.enumerated() {
                out += "\(name)_bucket{\(labels)\(sep)le=\"\(format(b))\"} \(h.counts[i])\n"
            }
            out += "\(name)_bucket{\(labels)\(sep)le=\"+Inf\"} \(h.count)\n"
            let braces = labels.isEmpty ? "" : "{\(labels)}"
            out += "\(name)_sum\(braces) \(format(h.sum))\n\(name)_count\(braces) \(h.count)\n"
        }
        lock.withLock {
            header("rag_http_requests_total", "counter", "HTTP requests by route, method and status.")
            for (k, v) in requests.sorted(by: { $0.key < $1.key }) {
                out += "rag_http_requests_total{route=\"\(escape(k.route))\",method=\"\(k.method)\",status=\"\(k.status)\"} \(v)\n"
            }
            header("rag_http_request_duration_seconds", "histogram", "Time from request to the end of the response body.")
            for (route, h) in latency.sorted(by: { $0.key < $1.key }) {
                histogram("rag_http_request_duration_seconds", labels: "route=\"\(escape(route))\"", h)
            }
            header("rag_time_to_first_token_seconds", "histogram", "Time from request to the first generated text.")
            histogram("rag_time_to_first_token_seconds", labels: "", timeToFirstToken)
            header("rag_generated_tokens_total", "counter", "Tokens generated.")
            out += "rag_generated_tokens_total \(generatedTokens)\n"
            header("rag_prompt_tokens_total", "counter", "Prompt tokens processed by generation.")
            out += "rag_prompt_tokens_total \(promptTokens)\n"
        }
        let gauges: [(String, String, Int?)] = [
            ("rag_generation_queue_depth", "Generation requests waiting for a slot.", g.queueDepth),
            ("rag_generation_active", "Generations running now.", g.activeGenerations),
            ("rag_generation_slots", "Generations allowed to run at once.", g.slots),
            ("rag_service_ready", "1 once the models have loaded.", g.ready ? 1 : 0),
            ("rag_documents", "Documents in the knowledge base.", g.documents),
            ("rag_chunks", "Chunks in the knowledge base.", g.chunks),
        ]
        for (name, help, value) in gauges {
            guard let value else { continue }
            header(name, "gauge", help)
            out += "\(name) \(value)\n"
        }
        return out
    }

    private func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
