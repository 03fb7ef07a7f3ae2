#!/usr/bin/env bash
# Builds the knowledge base bench/server/run.sh measures: more than 100k chunks of real text from
# Debian's documentation packages (the Python 3.11 manual's reStructuredText sources, the Octave
# and gnuplot manuals as PDF), ingested with the real embedder in sentence-sized chunks (24 tokens,
# no overlap) so that the base is large without a day of embedding.
#
#   bench/server/make-base.sh [OUT_DIR]      (default /tmp/rag-bench-server; writes OUT_DIR/kb.db)
#
# Needs the release build (swift build -c release) and root for apt-get when the packages are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-/tmp/rag-bench-server}"
rag="${RAG_BIN:-.build/release/rag}"
[ -x "$rag" ] || { echo "no $rag: swift build -c release first (or set RAG_BIN)" >&2; exit 2; }
packages=(python3.11-doc octave-doc gnuplot-doc)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update && apt-get install -y "${missing[@]}"; fi

mkdir -p "$out/docs/python" "$out/docs/manuals"
cp -r /usr/share/doc/python3.11/html/_sources/. "$out/docs/python/"
cp /usr/share/doc/octave/octave.pdf /usr/share/doc/gnuplot/gnuplot.pdf "$out/docs/manuals/"
# _sources holds *.rst.txt: plain text to the ingester.
time "$rag" ingest "$out/docs" --db "$out/kb.db" --chunk-tokens 24 --overlap 0
"$rag" status --db "$out/kb.db"
