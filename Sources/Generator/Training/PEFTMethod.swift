/// What `rag finetune` trains (`--peft`): a LoRA adapter (`qlora`: LoRA over a quantized GGUF
/// model's blocks, which is what `lora` does there too), prompt tuning's virtual tokens, (IA)³'s
/// scaling vectors, BitFit's norm gains, or every weight (`full`, a model folder).
public enum PEFTMethod: String, Sendable, CaseIterable {
    case lora, qlora, prompt, ia3, bitfit, full
}
