// The knowledge base (one SQLite file), the pipeline (ingest, retrieve, answer), configuration, evaluation.
public enum RAGModule {}
