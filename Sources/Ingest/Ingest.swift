// Walking a folder, loading text/Markdown/HTML/PDF, normalising, chunking with overlap, content hashes.
public enum IngestModule {}
