/// How an answer says that it cannot answer: the phrases models use for it (the pipeline's own
/// refusal among them). `rag eval answers` counts such an answer as declined, and the citation
/// check gives it no citation.
enum Declining {
    static let phrases = ["don't know", "do not know", "cannot find", "can't find", "not contain", "no information",
                          "not mentioned", "not provided", "不知道", "无法回答", "没有提到"]

    static func reads(_ answer: String) -> Bool {
        let a = answer.lowercased()
        return phrases.contains { a.contains($0) }
    }
}
