#!/usr/bin/env bash
# The knowledge base on PostgreSQL beside the same base in SQLite (issue 18), on a throwaway
# PostgreSQL 16 with pgvector 0.8 (scripts/postgres-test-server.sh; fsync on, 1 GB shared buffers):
#   1. ingest rate: corpus/ into a new SQLite file and a new PostgreSQL database (chunks/s: the
#      embedder's work plus each store's writes)
#   2. rag migrate of the large base into PostgreSQL (the store's own write rate, HNSW and GIN
#      indexes maintained row by row)
#   3. in-process hybrid retrieval p50/p99 and recall@10 of each vector index against exact search
#      at the same ef (bench-retrieve --recall)
#   4. POST /v1/retrieve with wrk (16 connections): SQLite with one rag-server; PostgreSQL with one
#      and with two rag-server processes on the same database (two wrk runs at once, summed)
#
#   bench/postgres/run.sh [BASE_DIR]      (default /tmp/rag-bench-server: bench/server/make-base.sh's)
#
# Needs the release build (swift build -c release), wrk (apt-get install wrk) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
base_dir="${1:-/tmp/rag-bench-server}"
rag="${RAG_BIN:-.build/release/rag}"
server="${RAG_SERVER_BIN:-.build/release/rag-server}"
retrieve="${RAG_RETRIEVE_BIN:-.build/release/bench-retrieve}"
duration="${DURATION:-10}"
question="${QUESTION:-What does the guide say about installation?}"
for b in "$rag" "$server" "$retrieve"; do [ -x "$b" ] || { echo "no $b: swift build -c release first" >&2; exit 2; }; done
[ -s "$base_dir/kb.db" ] || { echo "no $base_dir/kb.db: run bench/server/make-base.sh first" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }

pg=$(mktemp -d /tmp/rag-bench-postgres-XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    scripts/postgres-test-server.sh stop "$pg"
}
trap cleanup EXIT
RAG_PG_OPTIONS="-c shared_buffers=1GB -c maintenance_work_mem=512MB" scripts/postgres-test-server.sh start "$pg" >/dev/null
port=$(cat "$pg/port")
url() { echo "postgres://rag@127.0.0.1:$port/$1"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "== rag on PostgreSQL beside SQLite ($(date -u +%FT%TZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"

echo "== 1. ingest corpus/ (load $(load))"
scripts/postgres-test-server.sh createdb "$pg" corpus >/dev/null
tmp=$(mktemp -d)
for db in "$tmp/corpus.db" "$(url corpus)"; do
    out=$("$rag" ingest corpus --db "$db" --json 2>/dev/null)
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); c=r["chunks"]; t=r["seconds"]; print(f"  {sys.argv[2]:<44} {c} chunks in {t:.1f} s: {c/t:.1f} chunks/s")' "$out" "${db/$tmp\//}"
done
rm -rf "$tmp"

echo "== 2. rag migrate $base_dir/kb.db into PostgreSQL (load $(load))"
scripts/postgres-test-server.sh createdb "$pg" big >/dev/null
big=$(url big)
"$rag" migrate --from "$base_dir/kb.db" --to "$big" --json | python3 -c 'import json,sys; r=json.load(sys.stdin); d=r["documents"]; c=r["chunks"]; t=r["seconds"]; print(f"  {d} documents, {c} chunks in {t:.0f} s: {c/t:.0f} chunks/s")'
"$rag" status --db "$big" | sed 's/^/  /'

echo "== 3. in-process retrieval (hybrid, k 5) and recall@10 of the vector index (load $(load))"
for db in "$base_dir/kb.db" "$big"; do
    echo "  -- $db"
    "$retrieve" --db "$db" --question "$question" --k 5 --runs 200 --recall 200 | sed 's/^/  /'
done

echo "== 4. POST /v1/retrieve, wrk 16 connections, ${duration} s (load $(load))"
export RAG_BENCH_QUESTION="$question"
start_server() {  # start_server DB -> prints the port once /health answers
    local p; p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    "$server" --db "$1" --host 127.0.0.1 --port "$p" --queue 256 --log-level warning >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 1200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/health" || true)" = 200 ] && break
        sleep 0.1
    done
    echo "$p"
}
stop_servers() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
wrk_run() {  # wrk_run PORT CONNECTIONS -> requests/s p50 p99
    local out; out=$(wrk -t1 -c"$2" -d"${duration}s" --latency -s bench/server/retrieve.lua "http://127.0.0.1:$1" 2>&1)
    echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(echo "$out" | awk '$1=="50%" {print $2}') $(echo "$out" | awk '$1=="99%" {print $2}')"
}
printf '  %-34s %12s %10s %10s\n' setup "requests/s" "p50" "p99"
p=$(start_server "$base_dir/kb.db"); read -r rps p50 p99 <<< "$(wrk_run "$p" 16)"
printf '  %-34s %12s %10s %10s\n' "SQLite, one server" "$rps" "$p50" "$p99"; stop_servers
p=$(start_server "$big"); read -r rps p50 p99 <<< "$(wrk_run "$p" 16)"
printf '  %-34s %12s %10s %10s\n' "PostgreSQL, one server" "$rps" "$p50" "$p99"; stop_servers
p1=$(start_server "$big"); p2=$(start_server "$big")
wrk_run "$p1" 8 > "$pg/wrk1" & w1=$!
wrk_run "$p2" 8 > "$pg/wrk2" & w2=$!
wait "$w1" "$w2"
read -r r1 a1 b1 < "$pg/wrk1"; read -r r2 a2 b2 < "$pg/wrk2"
printf '  %-34s %12s %10s %10s\n' "PostgreSQL, two servers (8 + 8)" "$(python3 -c "print(f'{$r1 + $r2:.2f}')")" "$a1 / $a2" "$b1 / $b2"
stop_servers
