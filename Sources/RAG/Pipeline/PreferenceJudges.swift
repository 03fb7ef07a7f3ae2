// Ranking collected candidates without a person (RLAIF): `rag prefs rank FILE --judge reward:DIR`
// orders each question's answers by a reward model's score; `--judge model:PATH` asks a local
// language model which of two answers is better given the passages, once in each order (A/B and
// B/A) to cancel its bias for a position, and keeps a preference only when both orders agree.
// Either way the verdicts are stored in the candidates file beside the human rankings, and the
// training file they make is the one `rag finetune dpo|rm` read.

import Foundation
import Generator
import Tokenizers

/// A judge named on the command line: `reward:DIR` or `model:PATH`.
public enum PreferenceJudgeSpec: Sendable, Equatable, CustomStringConvertible {
    case reward(URL)
    case model(String)

    public init(parsing text: String) throws {
        if text.hasPrefix("reward:"), text.count > 7 {
            self = .reward(URL(fileURLWithPath: String(text.dropFirst(7)), isDirectory: true))
        } else if text.hasPrefix("model:"), text.count > 6 {
            self = .model(String(text.dropFirst(6)))
        } else {
            throw RAGError.invalidInput("--judge '\(text)': expected reward:DIR (a rag finetune rm folder) or model:PATH (a GGUF file or Hugging Face folder)")
        }
    }

    public var description: String {
        switch self {
        case .reward(let url): return "reward:\(url.path)"
        case .model(let path): return "model:\(path)"
        }
    }
}

/// Judges one question's candidates, filling `ranking` (and `scores`) or `pairs`.
public protocol PreferenceJudge {
    func judge(_ set: inout CandidateSet) throws
}

public enum PreferenceJudges {
    /// The judge `spec` names; `generatorPath` is the base model a reward model was trained on.
    public static func make(_ spec: PreferenceJudgeSpec, generatorPath: String?, models: ModelLocator = ModelLocator()) throws -> any PreferenceJudge {
        switch spec {
        case .reward(let folder):
            guard FileManager.default.fileExists(atPath: folder.path) else {
                throw RAGError.invalidInput("\(folder.path): no such reward model folder (train one with rag finetune rm)")
            }
            let base = try LlamaModel.load(from: try models.generator(generatorPath))
            return RewardJudge(scorer: try RewardScorer(model: base, directory: folder), name: spec.description)
        case .model(let path):
            return try ModelJudge(model: LlamaModel.load(from: try models.generator(path)), name: spec.description)
        }
    }
}

/// Orders the answers by a reward model's score, best first.
struct RewardJudge: PreferenceJudge {
    let scorer: RewardScorer
    let name: String

    func judge(_ set: inout CandidateSet) throws {
        let scores = try set.responses.map { try scorer.reward(prompt: set.prompt, response: [ChatMessage(role: "assistant", content: $0)]) }
        set.scores = scores
        set.ranking = scores.indices.sorted { scores[$0] > scores[$1] }
        set.judge = name
    }
}

/// A local language model as a pairwise judge: for answers i and j it reads the next-token logits
/// after a prompt that shows the passages, the question and the two answers as A and B, and takes
/// logit("A") − logit("B") as its preference for A. Asked with i as A and again with i as B; i is
/// preferred only when both orders prefer it (a tie otherwise, left out).
struct ModelJudge: PreferenceJudge {
    let session: DecodingSession
    let model: LlamaModel
    let name: String
    let tokenA: Int, tokenB: Int

    init(model: LlamaModel, name: String) throws {
        self.model = model
        self.name = name
        session = DecodingSession(model: model)
        let a = model.tokenizer.encode("A", addBOS: false), b = model.tokenizer.encode("B", addBOS: false)
        guard a.count == 1, b.count == 1, a != b else {
            throw RAGError.invalidInput("\(name): the judge's tokenizer does not write 'A' and 'B' as single tokens")
        }
        tokenA = a[0]
        tokenB = b[0]
    }

    static let system = """
        You compare two answers to a question about some numbered passages. The better answer states \
        what the passages say, cites the passage it uses as [n], and is brief; an answer that invents \
        facts or cites the wrong passage is worse. Reply with one letter: A or B.
        """

    /// The judge's messages for answers `a` and `b` (shown as A and B).
    static func messages(for set: CandidateSet, a: String, b: String) -> [ChatMessage] {
        let passages = set.passages.map { "[\($0.n)] \($0.file)\n\($0.text)" }.joined(separator: "\n\n")
        let user = "Passages:\n\(passages)\n\nQuestion: \(set.question)\n\nAnswer A: \(a)\n\nAnswer B: \(b)\n\nWhich answer is better, A or B?"
        return [ChatMessage(role: "system", content: system), ChatMessage(role: "user", content: user)]
    }

    /// logit(A) − logit(B) after the judge's prompt.
    func preferenceForA(_ set: CandidateSet, a: String, b: String) throws -> Float {
        let ids = try model.promptTokens(for: Self.messages(for: set, a: a, b: b))
        let logits = try session.nextTokenLogits(after: ids)
        return logits[tokenA] - logits[tokenB]
    }

    func judge(_ set: inout CandidateSet) throws {
        var pairs: [[Int]] = []
        let r = set.responses
        for i in r.indices {
            for j in r.indices where j > i {
                let iFirst = try preferenceForA(set, a: r[i], b: r[j])     // > 0: i preferred
                let jFirst = try preferenceForA(set, a: r[j], b: r[i])     // > 0: j preferred
                if iFirst > 0 && jFirst < 0 { pairs.append([i, j]) }
                if iFirst < 0 && jFirst > 0 { pairs.append([j, i]) }
            }
        }
        set.pairs = pairs
        set.judge = name
    }
}
