#!/usr/bin/env python3
"""Benchmark peer: hnswlib (PyPI) on Fashion-MNIST, single thread, printing one JSON object.
Called by `swift run -c release bench-ann`; same data, M, efConstruction and ef sweep."""
import argparse, gzip, json, os, time
import numpy as np
import hnswlib


def read_idx3(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n, rows, cols = (int.from_bytes(data[i:i + 4], "big") for i in range(0, 16, 4))
    assert magic == 0x803, f"{path}: bad magic {magic:#x}"
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32)


def find(d, name):
    p = os.path.join(d, name)
    return p if os.path.exists(p) else p + ".gz"


ap = argparse.ArgumentParser()
ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
ap.add_argument("--M", type=int, default=16)
ap.add_argument("--efc", type=int, default=200)
ap.add_argument("--ef", default="16,32,64,128,256,512")
ap.add_argument("--queries", type=int, default=1000)
ap.add_argument("--limit", type=int, default=60000)
args = ap.parse_args()

base = read_idx3(find(args.data, "train-images-idx3-ubyte"))[: args.limit]
queries = read_idx3(find(args.data, "t10k-images-idx3-ubyte"))[: args.queries]
k = 10

# Exact top-10 by squared L2 (float64 to avoid cancellation).
b64, q64 = base.astype(np.float64), queries.astype(np.float64)
d2 = (q64 ** 2).sum(1)[:, None] - 2 * q64 @ b64.T + (b64 ** 2).sum(1)[None, :]
truth = [set(row) for row in np.argpartition(d2, k, axis=1)[:, :k]]

index = hnswlib.Index(space="l2", dim=base.shape[1])
index.init_index(max_elements=base.shape[0], M=args.M, ef_construction=args.efc, random_seed=100)
index.set_num_threads(1)
t = time.thread_time()
index.add_items(base, np.arange(base.shape[0]), num_threads=1)
build = time.thread_time() - t

sweep = []
for ef in (int(x) for x in args.ef.split(",")):
    index.set_ef(ef)
    t = time.thread_time()
    # One batch call on one thread: the C++ loop, no Python overhead per query (favours the peer).
    labels, _ = index.knn_query(queries, k=k, num_threads=1)
    dt = time.thread_time() - t
    found = sum(len(truth[i] & set(int(x) for x in labels[i])) for i in range(len(queries)))
    sweep.append({"ef": ef, "recall": found / (len(queries) * k), "qps": len(queries) / dt})

print(json.dumps({"build_seconds": build, "sweep": sweep, "hnswlib": getattr(hnswlib, "__version__", "?")}))
