#!/usr/bin/env bash
# Builds the SFT and DPO data of the default model's adapter from Debian documentation.
#
#   train/rag-adapter/build-data.sh [WORK_DIR]        (default: train/rag-adapter/work)
#
# Env: RAG (the rag binary; default .build/release/rag), SAMPLES (how many base-model answers to
# sample for DPO; default 240, about 20 min of two idle cores; 0 skips sampling), PAIRS (DPO pairs;
# default 1500), SEED (15), JOBS (rag processes run side by side for
# the prompts and the sampling; default 1).
# Steps (each skipped when its output exists; delete WORK_DIR to start over):
#   1. install the documentation packages (apt-get; needs root)
#   2. docs_to_markdown.py: HTML and man pages -> Markdown folder + the facts their structure states
#   3. make_questions.py: facts -> questions with reference answers; a tenth of the documents held back
#   4. rag ingest: the documents not held back -> WORK_DIR/train.db
#   5. rag ask - --prompt-only --json: the prompt `rag ask` builds for every question
#   6. make_sft.py: prompts + reference answers citing the right passage -> sft.jsonl
#   7. rag eval answers --json --temperature 0.8: the base model's own answers to SAMPLES questions
#   8. make_dpo.py: chosen/rejected pairs -> dpo.jsonl
# Never reads corpus/ or its questions (the evaluation set), nor python3.11-doc, debian-faq or r-doc-pdf.
set -euo pipefail
source "$(dirname "$0")/paths.sh"
samples="${SAMPLES:-240}"
pairs="${PAIRS:-1500}"
seed="${SEED:-15}"
jobs="${JOBS:-1}"
mkdir -p "$work"

packages=(debian-handbook debian-reference-en sqlite3-doc gnuplot-doc octave-doc manpages postgresql-doc-15)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -s "$work/facts.jsonl" ]; then
    echo "== converting documentation to Markdown"
    rm -rf "$work/docs-all"
    python3 "$here/docs_to_markdown.py" "$work/docs-all" "$work/facts.jsonl.tmp"
    mv "$work/facts.jsonl.tmp" "$work/facts.jsonl"
fi

if [ ! -s "$work/questions.jsonl" ]; then
    echo "== questions"
    python3 "$here/make_questions.py" "$work/facts.jsonl" "$work/questions.jsonl.tmp" "$work/heldback.txt" --seed "$seed"
    mv "$work/questions.jsonl.tmp" "$work/questions.jsonl"
fi

if [ ! -s "$work/train.db" ] || [ ! -e "$work/ingested" ]; then
    echo "== ingesting (documents held back: $(wc -l < "$work/heldback.txt"))"
    rm -rf "$work/docs" "$work/train.db"*
    cp -al "$work/docs-all" "$work/docs"
    (cd "$work/docs" && xargs -r rm -f < "$work/heldback.txt")
    "$rag" ingest "$work/docs" --db "$work/train.db"
    touch "$work/ingested"
fi

if [ ! -s "$work/prompts.jsonl" ]; then
    echo "== prompts (rag ask --prompt-only, default k and mode)"
    rm -f "$work"/questions.part* "$work"/prompts.part*
    python3 -c 'import json,sys; [print(json.loads(l)["question"]) for l in open(sys.argv[1])]' "$work/questions.jsonl" \
        | split -n "r/$jobs" -d - "$work/questions.part"
    for part in "$work"/questions.part*; do
        "$rag" ask - --prompt-only --json --db "$work/train.db" < "$part" > "${part/questions/prompts}.jsonl" &
    done
    wait
    cat "$work"/prompts.part*.jsonl > "$work/prompts.jsonl.tmp"
    mv "$work/prompts.jsonl.tmp" "$work/prompts.jsonl"
fi

python3 "$here/make_sft.py" "$work/questions.jsonl" "$work/prompts.jsonl" "$work" --seed "$seed"

base_args=()
if [ "$samples" -gt 0 ]; then
    if [ ! -s "$work/base-samples.json" ]; then
        echo "== sampling $samples base-model answers (rag eval answers, temperature 0.8)"
        rm -f "$work"/sample-queries.part* "$work"/base-samples.part*
        head -n "$samples" "$work/sample-queries.jsonl" | split -n "r/$jobs" -d - "$work/sample-queries.part"
        for part in "$work"/sample-queries.part*; do
            "$rag" eval answers --queries "$part" --db "$work/train.db" --json \
                --temperature 0.8 --seed "$seed" --max-tokens 128 > "${part/sample-queries/base-samples}.json" &
        done
        wait
        python3 -c 'import json,sys; print(json.dumps({"records": [r for f in sys.argv[1:] for r in json.load(open(f))["records"]]}))' \
            "$work"/base-samples.part*.json > "$work/base-samples.json.tmp"
        mv "$work/base-samples.json.tmp" "$work/base-samples.json"
    fi
    base_args=(--base-samples "$work/base-samples.json")
fi
python3 "$here/make_dpo.py" "$work" "${base_args[@]}" --pairs "$pairs" --seed "$seed"
python3 "$here/make_sample.py" "$work" "$work/sample"
echo "== data in $work: sft.jsonl ($(wc -l < "$work/sft.jsonl") examples), dpo.jsonl ($(wc -l < "$work/dpo.jsonl") pairs)"
