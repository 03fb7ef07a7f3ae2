// HNSW graph, distance kernels, persistence in SQLite, FTS5 lexical search, rank fusion.
public enum VectorIndexModule {}
