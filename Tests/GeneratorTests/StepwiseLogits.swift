@testable import Generator

/// Logits after prefilling `prefix` tokens, then after each further token decoded alone, through a
/// Generator (its decode step and worker pool) on `threads` threads.
func stepwiseLogits(_ model: LlamaModel, _ tokens: [Int], prefix: Int, threads: Int) throws -> [[Float]] {
    let gen = Generator(model: model, contextLength: 256, threads: threads, decoder: { SilentDecoder() }, endTokens: [])
    try gen.run(Array(tokens[0..<prefix]), logits: .last)
    var rows = [Array(gen.lastLogits)]
    for token in tokens[prefix...] {
        try gen.run([token], logits: .last)
        rows.append(Array(gen.lastLogits))
    }
    return rows
}
