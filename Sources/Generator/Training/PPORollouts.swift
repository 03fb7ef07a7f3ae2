// PPO's experience: the prompts it trains on, and the responses the current policy samples for
// them. Sampling runs on the fast decoding path (KV cache, quantized kernels) with the policy's
// adapter as it stands, written out and loaded the way `rag --adapter` loads one; the training
// forward pass then re-reads the same tokens on the trainable model.

import Foundation
import Tensor
import Tokenizers

/// Prompts for PPO: JSONL or a JSON array of {"prompt": text or messages}, or {"messages": […]}
/// (a trailing assistant turn is dropped: the policy writes its own), each rendered with the chat
/// template and the generation prompt.
struct PromptDataset {
    struct Prompt {
        let messages: [ChatMessage]
        let ids: [Int]      // [P]
    }

    let prompts: [Prompt]
    /// Prompts left out because prompt + response would not fit in `maxLength`.
    let dropped: Int

    init(url: URL, model: LlamaModel, maxLength: Int, responseLength: Int) throws {
        var prompts: [Prompt] = [], dropped = 0
        let records = try DataRecords.read(url)
        guard !records.isEmpty else { throw TrainingError.data("\(url.path): no prompts") }
        for r in records {
            var messages: [ChatMessage]
            if r.object["prompt"] != nil {
                messages = try PreferenceDataset.promptMessages(r, field: "prompt")
            } else if let list = r.object["messages"] {
                messages = try ChatRecords.messageList(list, r, field: "messages")
            } else {
                throw TrainingError.data("\(r.location): a PPO prompt needs the field 'prompt' (text or messages) or 'messages'")
            }
            while messages.last?.role == "assistant" { messages.removeLast() }
            guard messages.contains(where: { $0.role == "user" }) else { throw r.fail("prompt", "has no user message") }
            let ids = try model.promptTokens(for: messages)
            if ids.count + responseLength > maxLength { dropped += 1; continue }
            prompts.append(Prompt(messages: messages, ids: ids))
        }
        guard !prompts.isEmpty else {
            throw TrainingError.data("\(url.path): every prompt is longer than --max-length minus --response-length")
        }
        self.prompts = prompts
        self.dropped = dropped
    }
}

/// One sampled response and what PPO computes about it, per response token t.
struct Rollout {
    let prompt: Int                 // index into the prompts
    let promptIDs: [Int]            // [P]
    /// The sampled tokens, with the end-of-turn token that ended the response (so the policy
    /// learns when to stop): [R].
    let responseIDs: [Int]
    let text: String
    let endedTurn: Bool
    var score = 0.0
    var logpOld: [Double] = []      // [R] log π_old (at the sampling temperature)
    var logpRef: [Double] = []      // [R] log π_ref
    var valuesOld: [Double] = []    // [R] V_old of the prefix before each token
    var kl: [Double] = []           // [R] log π_old − log π_ref
    var advantages: [Double] = []   // [R]
    var returns: [Double] = []      // [R]

    /// Prompt + response with only the response's tokens as targets.
    var sequence: TokenSequence {
        TokenSequence(ids: promptIDs + responseIDs,
                      isTarget: [Bool](repeating: false, count: promptIDs.count) + [Bool](repeating: true, count: responseIDs.count))
    }
}

/// Samples responses with the policy's current adapter on the fast decoding path.
struct RolloutSampler {
    let base: LlamaModel
    /// Where the adapter is written for loading (inside the run's output folder, removed at the end).
    let scratch: URL
    let baseModelName: String
    let contextLength: Int

    func sample(policy: TrainableLlama, prompts: [(index: Int, prompt: PromptDataset.Prompt)], options: PPOOptions,
                seed: UInt64) throws -> [Rollout] {
        try policy.saveTrained(to: scratch, baseModelName: baseModelName)
        let model = try base.adapted(by: scratch)
        let session = DecodingSession(model: model, contextLength: contextLength)
        return try prompts.enumerated().map { k, item in
            // The full softmax at the temperature: the distribution log π_old is computed under.
            let sampling = SamplingOptions(temperature: options.temperature, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1,
                                           seed: seed &+ UInt64(k) &* 0x9E37_79B9_7F4A_7C15, maxTokens: options.responseLength)
            let out = try session.generate(promptTokens: item.prompt.ids, options: sampling)
            var ids = out.tokenIDs
            if let end = out.endTokenID { ids.append(end) }
            return Rollout(prompt: item.index, promptIDs: item.prompt.ids, responseIDs: ids, text: out.text,
                           endedTurn: out.endTokenID != nil)
        }
    }
}
