#!/usr/bin/env python3
"""Benchmark peer for bench-embed: sentence-transformers on torch CPU, same chunks, same batch size.

python3 peer_sentence_transformers.py MODEL_DIR CHUNKS_JSON THREADS BATCH
prints one JSON line: {"sentences_per_s", "seconds", "cpu_seconds", "peak_rss_mb", "threads"}
"""
import json, os, resource, sys, time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
model_dir, chunks_path, threads, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
import torch
torch.set_num_threads(threads)
from sentence_transformers import SentenceTransformer

texts = json.load(open(chunks_path))
model = SentenceTransformer(model_dir, device="cpu")
with torch.inference_mode():
    model.encode(texts[:batch], batch_size=batch)          # warm-up
    start, cpu_start = time.perf_counter(), time.process_time()
    model.encode(texts, batch_size=batch)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux
print(json.dumps({"sentences_per_s": len(texts) / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_rss_mb": peak, "threads": threads}))
