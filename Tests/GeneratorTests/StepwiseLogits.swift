import CKernels
@testable import Generator

/// How far a prompt's batched forward (prefill) may differ from a Float32 computation of the same
/// logits: on a CPU with AMX its weight products run in bf16x3 (about 16 bits of each operand, so
/// ~1e-4 on these logits), elsewhere in Float32 (~1e-5).
func prefillTolerance(float32 tolerance: Float) -> Float {
    ck_gemm_simd_level() >= 3 ? max(tolerance, 1e-3) : tolerance
}

/// Logits after prefilling `prefix` tokens, then after each further token decoded alone, through a
/// DecodingSession (its decode step and worker pool) on `threads` threads.
func stepwiseLogits(_ model: LlamaModel, _ tokens: [Int], prefix: Int, threads: Int) throws -> [[Float]] {
    let gen = DecodingSession(model: model, contextLength: 256, threads: threads, decoder: { SilentDecoder() }, endTokens: [])
    try gen.run(Array(tokens[0..<prefix]), logits: .last)
    var rows = [Array(gen.lastLogits)]
    for token in tokens[prefix...] {
        try gen.run([token], logits: .last)
        rows.append(Array(gen.lastLogits))
    }
    return rows
}
