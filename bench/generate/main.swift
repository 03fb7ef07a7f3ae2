// bench-generate: placeholder e2e run (full benchmark below later).
@preconcurrency import Foundation
import Generator
import Tokenizers

let env = ProcessInfo.processInfo.environment
let folder = env["RAG_MODELS"] ?? (NSHomeDirectory() + "/.cache/rag/models")
let model = try LlamaModel.load(from: URL(fileURLWithPath: folder + "/SmolLM2-135M-Instruct.Q4_1.gguf"))
let gen = Generator(model: model, contextLength: 1024)
let prompt = model.promptTokens(for: [ChatMessage(role: "user", content: "What is the capital of France?")])
print(prompt)
let out = try gen.generate(promptTokens: prompt, options: .greedy(maxTokens: 48)) { piece in
    print(piece, terminator: "")
    fflush(nil)
    return true
}
print("\n\(out.finishReason) \(out.tokenIDs.count) tokens, prefill \(out.prefillSeconds) s, decode \(out.decodeTokensPerSecond) tok/s")
