#!/usr/bin/env bash
# Calibrates when the shipped adapter declines (answering.json beside it) on questions of the
# training build that the adapter was not trained on, and never on corpus/ or the held-out FAQ:
# an answerability probe on its hidden state (the layer chosen among PROBE_LAYERS by cross-validation)
# and its threshold, or with PROBE_LAYERS= (empty) the older first-token refusal bias.
#
#   train/rag-adapter/calibrate-refusal.sh [WORK_DIR]      (after build-data.sh; default work/)
#
# Env: RAG (the rag binary), ADAPTER (default: adapters/SmolLM2-135M-Instruct-rag), N (questions of
# each kind; default 300), MAX_OVER_REFUSAL (default 0.05), SFT_ITEMS (the SFT run's size: examples,
# steps, group, seed, eval split; default that of train.sh: "2600 90 8 15 0.01"), PROBE_LAYERS
# (default "12 16 18 20 22 24"), PROBE_L2 (default 0.2), WRITE=1 to write the chosen probe or bias
# (only worth it when the separation is well above 0.5: otherwise it declines answerable questions
# about as often as unanswerable ones).
#   1. trained_items.swift replays `rag finetune sft`'s split and order: which SFT lines it trained on
#   2. make_calibration.py: N answerable questions it did not train on + N unanswerable ones left out of SFT,
#      and calibration/written-questions.jsonl (390 questions written as people ask them; label_written.py)
#   3. rag eval refusal: each question's first-token margin and hidden states, how well each separates
#      the two kinds (the probe's cross-validated), and the largest threshold whose over-refusal stays
#      within MAX_OVER_REFUSAL (with WRITE=1 written to ADAPTER/answering.json, where rag ask, chat and
#      the server read it)
set -euo pipefail
source "$(dirname "$0")/paths.sh"
adapter="${ADAPTER:-$root/adapters/SmolLM2-135M-Instruct-rag}"
read -r -a sft_items <<< "${SFT_ITEMS:-2600 90 8 15 0.01}"
[ -s "$work/sft.meta.jsonl" ] && [ -s "$work/train.db" ] || { echo "error: no training build in $work: run build-data.sh first" >&2; exit 1; }
[ "$(wc -l < "$work/sft.jsonl")" = "${sft_items[0]}" ] || { echo "error: $work/sft.jsonl is not the ${sft_items[0]} examples the adapter was trained on" >&2; exit 1; }

swiftc -O -parse-as-library "$root/Sources/SeededRandom/SplitMix64.swift" "$here/trained_items.swift" -o "$work/trained_items"
"$work/trained_items" "${sft_items[@]}" > "$work/sft-trained.txt"
python3 "$here/make_calibration.py" "$work" "$work/sft-trained.txt" "$work/calibration-template.jsonl" --n "${N:-300}"
# + the questions written as people ask them (calibration/README.md), kept where retrieval hands the
#   model what they say: the template questions alone give a probe that does not transfer
python3 "$here/calibration/label_written.py" "$rag" "$work/train.db" "$work/calibration-written.jsonl" "$here/calibration/written-questions.jsonl"
cat "$work/calibration-template.jsonl" "$work/calibration-written.jsonl" > "$work/calibration.jsonl"
layers="${PROBE_LAYERS-12 16 18 20 22 24}"
probe=()
# shellcheck disable=SC2206  # the layers are words
[ -n "$layers" ] && probe=(--probe-layers $layers --probe-l2 "${PROBE_L2:-0.2}")
"$rag" eval refusal --db "$work/train.db" --adapter "$adapter" --queries "$work/calibration.jsonl" \
    --refusal "$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from common import REFUSAL; print(REFUSAL)' "$here")" \
    --max-over-refusal "${MAX_OVER_REFUSAL:-0.05}" ${WRITE:+--write} "${probe[@]}"
