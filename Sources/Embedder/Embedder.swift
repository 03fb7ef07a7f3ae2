// The BERT-family encoder (mean pooling, normalised output), batching, contrastive training, retrieval evaluation.
public enum EmbedderModule {}
