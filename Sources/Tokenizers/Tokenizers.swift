// Byte-level BPE (Llama/SmolLM2) and WordPiece (BERT) tokenizers, loaded from tokenizer.json or GGUF metadata; chat templates.
public enum TokenizersModule {}
