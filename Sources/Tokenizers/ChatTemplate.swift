import Foundation

/// One chat turn.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The chat formats we render without a Jinja engine, recognised from the model's template text.
/// Rendering is at the token level only (`encode`, ChatEncoding.swift): there is no string form
/// to tokenise with special tokens parsed.
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n`…; `defaultSystem` is inserted when the messages
    /// have no system message first (SmolLM2: "You are a helpful AI assistant named SmolLM, …").
    case chatML(defaultSystem: String?)

    /// From `tokenizer.chat_template` (GGUF) / `chat_template` (tokenizer_config.json); nil means
    /// plain ChatML. Throws for templates that are not ChatML.
    public init(jinjaSource: String?) throws {
        guard let source = jinjaSource else { self = .chatML(defaultSystem: nil); return }
        guard source.contains("<|im_start|>") else {
            throw TokenizerError.unknownChatTemplate(excerpt: String(source.prefix(120)))
        }
        self = .chatML(defaultSystem: Self.defaultSystemMessage(in: source))
    }

    /// The literal system message a template emits when the first message is not a system one:
    /// `'<|im_start|>system\n…<|im_end|>` inside an `{% if … != 'system' %}` block.
    private static func defaultSystemMessage(in source: String) -> String? {
        let marker = "<|im_start|>system\n"
        guard source.contains("!= 'system'") || source.contains("!= \"system\""),
              let start = source.range(of: marker),
              let end = source.range(of: "<|im_end|>", range: start.upperBound..<source.endIndex) else { return nil }
        let body = String(source[start.upperBound..<end.lowerBound])
        guard !body.contains("{{") && !body.contains("{%") && !body.contains("'") else { return nil }
        return body.replacingOccurrences(of: "\\n", with: "\n")
    }
}
