#!/usr/bin/env bash
# One command from a fresh Debian machine to a cited answer: install the Debian packages, fetch the
# default models, build in release mode, ingest corpus/ and answer a question from it.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/fetch-models.sh
swift build -c release
rag=.build/release/rag
echo
echo "== rag ingest corpus/ --db corpus.db"
"$rag" ingest corpus --db corpus.db
echo
question="${1:-What does reciprocal rank fusion add up for each document?}"
echo "== rag ask \"$question\" --db corpus.db"
"$rag" ask "$question" --db corpus.db
