#!/usr/bin/env bash
# One command from a fresh Debian machine to an answer: install packages, fetch the default models,
# build in release mode, ingest corpus/ and answer a question from it.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/fetch-models.sh
swift build -c release
.build/release/rag --help
