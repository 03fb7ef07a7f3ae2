import Foundation

/// The one place the answering prompt is defined. A template has a system part and a user part;
/// the user part holds `{{passages}}` and `{{question}}`. A file given with `--template` overrides
/// it, in the same format:
///
///     [system]
///     …instruction…
///     [user]
///     …{{passages}}…{{question}}…
public struct PromptTemplate: Sendable, Equatable {
    public var system: String
    public var user: String

    public static let standard = PromptTemplate(
        system: """
            You answer questions using only the numbered passages the user gives you. \
            Cite the passages you use as [1], [2] and so on. \
            If the passages do not contain the answer, say that you don't know.
            """,
        user: """
            Passages:
            {{passages}}

            Question: {{question}}
            """)

    public init(system: String, user: String) {
        self.system = system
        self.user = user
    }

    /// Parses the file format above; errors name the file and what is missing.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw RAGError.invalidInput("\(url.path): cannot read template (\(error.localizedDescription))")
        }
        var sections: [String: [String]] = [:]
        var current: String?
        for line in text.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed == "[system]" || trimmed == "[user]" {
                let name = String(trimmed.dropFirst().dropLast())
                current = name
                sections[name] = []
            } else if let c = current {
                sections[c, default: []].append(line)
            } else if !trimmed.isEmpty {
                throw RAGError.invalidInput("\(url.path): text before the first [system] or [user] line")
            }
        }
        let join = { (key: String) in (sections[key] ?? []).joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) }
        let user = join("user")
        guard !user.isEmpty else { throw RAGError.invalidInput("\(url.path): missing [user] section") }
        guard user.contains("{{question}}") else { throw RAGError.invalidInput("\(url.path): [user] section lacks {{question}}") }
        guard user.contains("{{passages}}") else { throw RAGError.invalidInput("\(url.path): [user] section lacks {{passages}}") }
        self.init(system: join("system"), user: user)
    }

    /// The system prompt of an answer with retrieval: the template's rules first, then the system
    /// prompts the client sent (kept, not replaced: they say who the assistant is for that client).
    public func system(keeping clientSystem: [String]) -> String {
        let extra = clientSystem.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return ([system] + extra).joined(separator: "\n\n")
    }

    /// How one passage appears in the prompt.
    public static func render(_ p: Passage) -> String {
        "[\(p.n)] (\(p.label))\n\(p.text)"
    }

    /// The user message for these passages and question.
    public func userMessage(passages: [Passage], question: String) -> String {
        let block = passages.map(Self.render).joined(separator: "\n\n")
        // Substitute the question last so a question containing "{{passages}}" stays literal.
        return user.replacingOccurrences(of: "{{passages}}", with: block)
            .replacingOccurrences(of: "{{question}}", with: question)
    }

    /// Keeps the longest prefix of `passages` (in rank order) whose prompt fits `budget` tokens;
    /// the question is never cut. Returns nil when even the question alone does not fit.
    public func fit(passages: [Passage], question: String, budget: Int, countTokens: (String) -> Int) -> [Passage]? {
        let fixed = countTokens(system) + countTokens(userMessage(passages: [], question: question))
        if fixed > budget { return nil }
        var kept: [Passage] = []
        var used = fixed
        for p in passages {
            let cost = countTokens(Self.render(p)) + 2  // + the blank line between passages
            if used + cost > budget { break }
            used += cost
            kept.append(p)
        }
        return kept
    }
}
