#!/usr/bin/env bash
# ANN benchmark: our HNSW vs hnswlib (the Swift bench runs bench/ann/hnswlib_peer.py in the same run).
# Needs: apt-get install dataset-fashion-mnist; pip install hnswlib numpy.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -c "import hnswlib, numpy" 2>/dev/null || pip install hnswlib numpy
swift run -c release bench-ann "$@"
