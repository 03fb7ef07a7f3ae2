#!/usr/bin/env bash
# Server benchmark on loopback (run by the lead once the pipeline lands):
#   - POST /v1/retrieve throughput and p50/p99 latency with wrk at 1, 16 and 128 connections
#   - POST /v1/chat/completions (streamed): time to first token and tokens/s with 1 and 4 streams
#   - the same retrieval in-process (bench-retrieve), to show what HTTP adds
#   The base should have ≥ 100k chunks: bench/server/make-base.sh builds one from Debian's docs.
#
#   bench/server/run.sh --db kb.db --model SmolLM2-135M-Instruct.Q4_1.gguf --embedder all-MiniLM-L6-v2 \
#       [--duration 10] [--question "..."] [--parallel 4]
#
# Needs wrk (apt-get install wrk) and python3 (stdlib only). RAG_SERVER_BIN picks the binary
# (default .build/release/rag-server; build with `swift build -c release` first). It prints the
# machine's load before each part, since 2 shared cores make every figure depend on it.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/server
duration=10
question="What does the guide say about installation?"
parallel=4
server_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration="$2"; shift 2 ;;
        --question) question="$2"; shift 2 ;;
        --parallel) parallel="$2"; shift 2 ;;
        *) server_args+=("$1"); shift ;;
    esac
done
bin="${RAG_SERVER_BIN:-.build/release/rag-server}"
[ -x "$bin" ] || { echo "no $bin: swift build -c release first (or set RAG_SERVER_BIN)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
log=$(mktemp)
"$bin" "${server_args[@]}" --host 127.0.0.1 --port "$port" --parallel "$parallel" --queue 256 --log-level warning >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
for _ in $(seq 1 1200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/health" || true)" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
    sleep 0.1
done

echo "== rag-server benchmark ($(date -u +%FT%TZ), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg))"
# The same question in-process (no HTTP), to show the server's overhead.
retrieve_args=()
for ((i = 0; i < ${#server_args[@]}; i++)); do
    case "${server_args[$i]}" in
        --db|--embedder) retrieve_args+=("${server_args[$i]}" "${server_args[$((i + 1))]}") ;;
    esac
done
"${RAG_RETRIEVE_BIN:-.build/release/bench-retrieve}" "${retrieve_args[@]}" --question "$question" --k 5
echo "== /v1/retrieve, ${duration}s per run"
printf '%-12s %12s %10s %10s\n' connections "requests/s" "p50 ms" "p99 ms"
export RAG_BENCH_QUESTION="$question"
for c in 1 16 128; do
    threads=$(( c < 2 ? 1 : 2 ))
    out=$(wrk -t"$threads" -c"$c" -d"${duration}s" --latency -s "$here/retrieve.lua" "$base" 2>&1)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-12s %12s %10s %10s %s\n' "$c" "$rps" "$(python3 "$here/to_ms.py" "$p50")" "$(python3 "$here/to_ms.py" "$p99")" "${errors:+(non-2xx: $errors)}"
done

echo "== /v1/chat/completions streamed (load: $(cut -d' ' -f1-3 /proc/loadavg), --parallel $parallel)"
for n in 1 4; do
    python3 "$here/stream_client.py" --base-url "$base" --streams "$n" --rounds 3 --question "$question"
done
