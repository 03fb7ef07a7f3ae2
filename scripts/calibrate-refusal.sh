#!/usr/bin/env bash
# Calibrates the answering pipeline's refusal threshold (min relevance: the cosine between the
# question and the best passage below which `rag ask` says it found nothing) on a set that is NOT
# corpus/questions.jsonl: in-domain queries made from the corpus's own headings ("document title:
# section heading") against off-topic questions (eval/offtopic_questions.txt). Prints the best
# passage's cosine for both groups and, per threshold, how many of each would be refused.
#
#   scripts/calibrate-refusal.sh [--db corpus.db]
set -euo pipefail
cd "$(dirname "$0")/.."
db=corpus.db
[ "${1:-}" = "--db" ] && db="$2"
rag="${RAG_BIN:-.build/release/rag}"
[ -f "$db" ] || { echo "no $db: run ./setup.sh (or rag ingest corpus --db $db) first" >&2; exit 2; }

best() {  # the best vector score (cosine) for each line of stdin
    while IFS= read -r q; do
        [ -n "$q" ] || continue
        "$rag" search "$q" --db "$db" --k 1 --mode vector --json | python3 -c 'import json,sys; h=json.load(sys.stdin)["hits"]; print(h[0]["score"] if h else 0)'
    done
}
in_domain=$(for f in corpus/*/*.md; do
    title=$(grep -m1 '^# ' "$f" | sed 's/^# //')
    grep '^## ' "$f" | sed "s/^## /$title: /"
done | best)
off_topic=$(best < eval/offtopic_questions.txt)
python3 - "$in_domain" "$off_topic" <<'PY'
import sys
ind = [float(x) for x in sys.argv[1].split()]
off = [float(x) for x in sys.argv[2].split()]
print(f"in-domain queries: {len(ind)}, best cosine min {min(ind):.3f}, median {sorted(ind)[len(ind)//2]:.3f}")
print(f"off-topic queries: {len(off)}, best cosine max {max(off):.3f}, median {sorted(off)[len(off)//2]:.3f}")
print("threshold | in-domain refused | off-topic refused | balanced accuracy")
best = None
for i in range(10, 51):
    t = i / 100
    fr = sum(x < t for x in ind) / len(ind)
    tr = sum(x < t for x in off) / len(off)
    acc = ((1 - fr) + tr) / 2
    if i % 5 == 0: print(f"   {t:.2f}   |      {fr:6.1%}       |      {tr:6.1%}       |   {acc:.3f}")
    if best is None or acc > best[1] + 1e-12: best = (t, acc, t)
    elif abs(acc - best[1]) <= 1e-12: best = (best[0], acc, t)
print(f"best balanced accuracy {best[1]:.3f} for thresholds {best[0]:.2f}-{best[2]:.2f}; the pipeline's default is 0.30")
PY
