#!/usr/bin/env bash
# Takes a screenshot of the page a running rag-server serves at GET /, with Debian's chromium in
# headless mode (installs nothing; skips with a message when chromium is absent).
#
#   scripts/check-webpage.sh [URL] [OUT.png]        # defaults: http://127.0.0.1:8080/ and webpage.png
#
# To look at the page before the pipeline lands, serve it with the test-only scripted service:
#   swift build --product rag-server-scripted
#   .build/debug/rag-server-scripted --port 8080 &
#   scripts/check-webpage.sh http://127.0.0.1:8080/ /tmp/webpage.png
# With an API key, the page asks for it (stored in the browser); /health and / stay open.
set -euo pipefail
url="${1:-http://127.0.0.1:8080/}"
out="${2:-webpage.png}"
browser=""
for b in chromium chromium-browser google-chrome; do command -v "$b" >/dev/null && browser="$b" && break; done
if [ -z "$browser" ]; then
    echo "chromium is not installed (apt-get install chromium); skipping the screenshot" >&2
    exit 0
fi
curl -sf -o /dev/null "$url" || { echo "nothing answers at $url: start rag-server first" >&2; exit 1; }
# --virtual-time-budget lets the page's fetches (health, document list) finish before the shot.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,800 \
    --virtual-time-budget=${RAG_SHOT_BUDGET_MS:-8000} --screenshot="$out" "$url" 2>/dev/null
[ -s "$out" ] || { echo "no screenshot written" >&2; exit 1; }
echo "wrote $out"
