import Foundation
import RAG

struct CompletionRequest: Decodable, Sendable {
    var model: String?
    var prompt: PromptField
    var stream: Bool?
    var streamOptions: StreamOptions?
    var n: Int?
    /// llama.cpp's extra: control tokens written in the prompt become control ids (off: the prompt is text).
    var parseSpecial: Bool?
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey { case model, prompt, stream, n, streamOptions = "stream_options", parseSpecial = "parse_special" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(PromptField.self, forKey: .prompt)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        parseSpecial = try c.decodeIfPresent(Bool.self, forKey: .parseSpecial)
        sampling = try SamplingFields(from: decoder)
    }
}

/// Both the whole response and each streamed chunk (`object` is "text_completion" for both).
struct TextCompletion: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var text: String
        var index: Int
        var logprobs = Explicit<String>(nil)
        var finishReason: Explicit<String>
        enum CodingKeys: String, CodingKey { case text, index, logprobs, finishReason = "finish_reason" }
    }
    var id: String
    var object = "text_completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: UsageBody?
    var timings: Timings?
}
