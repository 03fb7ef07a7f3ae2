import Foundation
import RAG

struct ChatCompletionRequest: Decodable, Sendable {
    struct Message: Decodable, Sendable {
        var role: String
        var content: ContentField?
    }
    var model: String?
    var messages: [Message]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var n: Int?
    var rag: RagField?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, n, rag
        case streamOptions = "stream_options"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([Message].self, forKey: .messages)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        rag = try c.decodeIfPresent(RagField.self, forKey: .rag)
        sampling = try SamplingFields(from: decoder)
    }
}

struct UsageBody: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    init(_ u: Usage) { promptTokens = u.promptTokens; completionTokens = u.completionTokens; totalTokens = u.promptTokens + u.completionTokens }
    init(prompt: Int) { promptTokens = prompt; completionTokens = 0; totalTokens = prompt }
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
}

struct ChatCompletion: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var index = 0
        var message: AssistantMessage
        var logprobs = Explicit<String>(nil)
        var finishReason: String
        enum CodingKeys: String, CodingKey { case index, message, logprobs, finishReason = "finish_reason" }
    }
    struct AssistantMessage: Encodable, Sendable { var role = "assistant"; var content: String }

    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageBody
    /// Extra fields standard clients ignore: the cited passages and the timings.
    var sources: [Passage]
    var timings: Timings
}

/// One server-sent event of a streamed chat completion.
struct ChatCompletionChunk: Encodable, Sendable {
    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
    }
    struct Choice: Encodable, Sendable {
        var index = 0
        var delta: Delta
        var logprobs = Explicit<String>(nil)
        var finishReason: Explicit<String>
        enum CodingKeys: String, CodingKey { case index, delta, logprobs, finishReason = "finish_reason" }
    }
    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageBody?
    var sources: [Passage]?
    var timings: Timings?
}

extension FinishReason {
    /// OpenAI knows stop and length; a cancelled generation ended early at our request, which
    /// clients should read as a normal stop.
    var openAI: String { self == .length ? "length" : "stop" }
}
