#!/usr/bin/env bash
# The test command: installs what is missing, fetches the default models (tests that need real
# weights use them), and runs the whole suite on a release build.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install-deps.sh
scripts/fetch-models.sh
swift build -c release -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing
