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
swift test -c release
