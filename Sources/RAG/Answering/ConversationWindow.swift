import Tokenizers

/// Which turns of a conversation go into the prompt: every system message and the last user
/// message always, then as many of the most recent earlier turns as fit `budget` tokens (oldest
/// dropped first, whole turns only, so an answer never appears without its question).
enum ConversationWindow {
    static func fit(_ messages: [ChatMessage], budget: Int, countTokens: (String) -> Int) -> [ChatMessage] {
        guard let last = messages.lastIndex(where: { $0.role == "user" }) else { return messages }
        // Each turn costs its text plus a few tokens of chat-template framing.
        func cost(_ t: ChatMessage) -> Int { countTokens(t.content) + 4 }
        var used = messages.filter { $0.role == "system" }.map(cost).reduce(0, +) + cost(messages[last])
        var keep = Set<Int>(messages.indices.filter { messages[$0].role == "system" || $0 >= last })
        // Walk back over the earlier user/assistant turns, a question with its answer at a time.
        var i = last - 1
        while i >= 0 {
            if messages[i].role == "system" { i -= 1; continue }
            var group = [i]
            if messages[i].role == "assistant", let q = (0..<i).last(where: { messages[$0].role != "system" }),
               messages[q].role == "user" {
                group.append(q)
            }
            let groupCost = group.map { cost(messages[$0]) }.reduce(0, +)
            if used + groupCost > budget { break }
            used += groupCost
            keep.formUnion(group)
            i = (group.min() ?? i) - 1
        }
        return messages.indices.filter { keep.contains($0) }.map { messages[$0] }
    }
}
