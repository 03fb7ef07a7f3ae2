#!/usr/bin/env bash
# Starts rag-server with the given arguments on a free loopback port, waits for /health, runs
# scripts/openai_compat.py (the official `openai` client) against it, and stops the server.
#
#   scripts/openai_compat.sh --db kb.db --model SmolLM2-135M-Instruct.Q4_1.gguf --embedder all-MiniLM-L6-v2
#
# RAG_SERVER_BIN picks the binary (default .build/release/rag-server, else .build/debug/rag-server).
# Before the pipeline lands, run it against the test-only scripted service:
#   swift build --product rag-server-scripted && RAG_SERVER_BIN=.build/debug/rag-server-scripted scripts/openai_compat.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${RAG_SERVER_BIN:-}"
if [ -z "$bin" ]; then
    for b in .build/release/rag-server .build/debug/rag-server; do [ -x "$b" ] && bin="$b" && break; done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "no rag-server binary: swift build -c release first (or set RAG_SERVER_BIN)" >&2; exit 2; }
python3 -c "import openai" 2>/dev/null || { echo "the openai package is missing: pip install openai" >&2; exit 2; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
key="compat-$RANDOM$RANDOM"
log=$(mktemp)
"$bin" "$@" --host 127.0.0.1 --port "$port" --api-key "$key" >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT

for _ in $(seq 1 600); do   # up to 60 s for the models to load
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" || true)
    [ "$code" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || { echo "rag-server exited:"; cat "$log"; exit 1; }
    sleep 0.1
done
[ "$code" = 200 ] || { echo "rag-server did not become healthy (last status $code):"; cat "$log"; exit 1; }

python3 scripts/openai_compat.py --base-url "http://127.0.0.1:$port/v1" --api-key "$key"
