import RAG

/// `"stop": "###"` or `"stop": ["###", "\n\n"]`.
struct StopField: Decodable, Sendable {
    var values: [String]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { values = [] }
        else if let s = try? c.decode(String.self) { values = [s] }
        else { values = try c.decode([String].self) }
    }
}

/// Message content as a string, or as OpenAI's array of parts of which the text ones are kept.
struct ContentField: Decodable, Sendable {
    var text: String
    struct Part: Decodable { var type: String; var text: String? }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { text = "" }
        else if let s = try? c.decode(String.self) { text = s }
        else {
            let parts = try c.decode([Part].self)
            text = parts.filter { $0.type == "text" }.compactMap(\.text).joined(separator: "\n")
        }
    }
}

/// `"prompt": "text"` or `"prompt": ["a", "b"]`.
struct PromptField: Decodable, Sendable {
    var values: [String]
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { values = [s] } else { values = try c.decode([String].self) }
    }
}

/// `"rag": false` turns retrieval off; `"rag": {"k": 3, "mode": "vector", "filter": "docs/*.md"}` tunes it.
struct RagField: Decodable, Sendable {
    var enabled = true
    var k: Int?
    var mode: RetrievalMode?
    var filter: String?
    /// false shows the model's citation numbers as generated (see `CitationCheck`).
    var checkCitations = true
    enum CodingKeys: String, CodingKey { case enabled, k, mode, filter, checkCitations = "check_citations" }
    init(from decoder: any Decoder) throws {
        if let b = try? decoder.singleValueContainer().decode(Bool.self) { enabled = b; return }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        k = try c.decodeIfPresent(Int.self, forKey: .k)
        mode = try c.decodeIfPresent(RetrievalMode.self, forKey: .mode)
        filter = try c.decodeIfPresent(String.self, forKey: .filter)
        checkCitations = try c.decodeIfPresent(Bool.self, forKey: .checkCitations) ?? true
    }
}

/// The sampling fields chat and completions share, checked and turned into `GenerationOptions`.
struct SamplingFields: Decodable, Sendable {
    var temperature: Double?
    var topP: Double?
    var topK: Int?
    var minP: Double?
    var repeatPenalty: Double?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stop: StopField?
    var seed: Int64?

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop
        case topP = "top_p", topK = "top_k", minP = "min_p", repeatPenalty = "repeat_penalty"
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        repeatPenalty = try c.decodeIfPresent(Double.self, forKey: .repeatPenalty)
        stop = try c.decodeIfPresent(StopField.self, forKey: .stop)
        topK = try Self.integer(c, .topK).map(Int.init)
        maxTokens = try Self.integer(c, .maxTokens).map(Int.init)
        maxCompletionTokens = try Self.integer(c, .maxCompletionTokens).map(Int.init)
        seed = try Self.integer(c, .seed)
    }

    /// An integer field; a number that is not a 64-bit integer (1e30, 2^63, 1.5) is a 400 naming
    /// the field, not a decoding error without a path.
    static func integer(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Int64? {
        guard c.contains(key), !(try c.decodeNil(forKey: key)) else { return nil }
        if let v = try? c.decode(Int64.self, forKey: key) { return v }
        if let d = try? c.decode(Double.self, forKey: key) {
            throw invalidField(key.stringValue, "must be an integer between \(Int64.min) and \(Int64.max) (got \(d))")
        }
        return try c.decode(Int64.self, forKey: key)  // not a number: the decoder's own type error names the field
    }

    /// The sampling fields as options for `model` (a name `ModelResolver` accepted).
    func options(maxTokensCap: Int, model: String) throws -> GenerationOptions {
        var o = GenerationOptions()
        o.model = model
        if let t = temperature {
            guard t >= 0, t <= 2 else { throw invalidField("temperature", "must be between 0 and 2") }
            o.sampling.temperature = Float(t)
        }
        if let p = topP {
            guard p > 0, p <= 1 else { throw invalidField("top_p", "must be in (0, 1]") }
            o.sampling.topP = Float(p)
        }
        if let k = topK {
            guard k >= 0 else { throw invalidField("top_k", "must be 0 (off) or more") }
            o.sampling.topK = k
        }
        if let m = minP {
            guard m >= 0, m < 1 else { throw invalidField("min_p", "must be in [0, 1)") }
            o.sampling.minP = Float(m)
        }
        if let r = repeatPenalty {
            guard r > 0 else { throw invalidField("repeat_penalty", "must be positive") }
            o.sampling.repetitionPenalty = Float(r)
        }
        let (field, limit) = maxCompletionTokens.map { ("max_completion_tokens", $0) } ?? ("max_tokens", maxTokens ?? o.sampling.maxTokens)
        guard limit >= 1 else { throw invalidField(field, "must be at least 1") }
        o.sampling.maxTokens = min(limit, maxTokensCap)
        if let stop = stop?.values {
            guard stop.count <= 4 else { throw invalidField("stop", "at most 4 stop sequences") }
            o.sampling.stop = stop.filter { !$0.isEmpty }
        }
        if let s = seed { o.sampling.seed = UInt64(bitPattern: s) }
        return o
    }
}

/// A value that is written as JSON null when absent (OpenAI sends `"finish_reason": null`,
/// `"logprobs": null` rather than leaving the keys out).
struct Explicit<T: Encodable & Sendable>: Encodable, Sendable {
    var value: T?
    init(_ value: T?) { self.value = value }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// `"stream_options": {"include_usage": true}` adds a final chunk with usage and no choices.
struct StreamOptions: Decodable, Sendable {
    var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
}
