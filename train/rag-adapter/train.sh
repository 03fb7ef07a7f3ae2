#!/usr/bin/env bash
# Trains the default model's adapter: LoRA SFT on the grounded answers, then DPO from the SFT adapter.
#
#   train/rag-adapter/train.sh [WORK_DIR]        (default: train/rag-adapter/work, built by build-data.sh)
#
# Env: RAG (the rag binary; default .build/release/rag), OUT (where the adapters go; default
# train/rag-adapter/out). Logs (JSONL, TRL's metric names) go beside each adapter.
# The flags are those of `rag finetune` (issue 13); every number of the recipe is on these lines.
set -euo pipefail
source "$(dirname "$0")/paths.sh"
out="${OUT:-$here/out}"
mkdir -p "$out"
[ -s "$work/sft.jsonl" ] && [ -s "$work/dpo.jsonl" ] || { echo "error: $work: no sft.jsonl/dpo.jsonl (run build-data.sh first)" >&2; exit 1; }

# The default model (SmolLM2-135M-Instruct Q4_1): QLoRA over the quantized weights.
# A prompt is the system message + five retrieved passages + the question: ~1,200–1,900 tokens of
# SmolLM2's tokenizer; 2048 keeps them whole (longer ones are cut by the trainer's stated rule).
common=(--seed 15 --max-length 2048 --lora-r 16 --lora-alpha 32 --lora-dropout 0.05
        --lora-targets q_proj,k_proj,v_proj,o_proj)

# 1. SFT: loss on the answer tokens only; ~1 epoch of the ~3,000 examples (8 per step).
"$rag" finetune sft "${common[@]}" \
    --data "$work/sft.jsonl" --out "$out/sft" \
    --max-steps 400 --lr 2e-4 --batch-size 4 --grad-accum 2 \
    --eval-split 0.03 --eval-every 50 --save-every 100 --log "$out/sft/train.jsonl"

# 2. DPO from the SFT adapter: sigmoid loss, beta 0.1, the reference is the SFT model (the policy's
#    adapter frozen at its start), ~1 epoch of the ~1,500 pairs.
"$rag" finetune dpo "${common[@]}" \
    --adapter "$out/sft" \
    --data "$work/dpo.jsonl" --out "$out/dpo" \
    --beta 0.1 --max-steps 180 --lr 5e-6 --batch-size 2 --grad-accum 4 \
    --eval-split 0.03 --eval-every 30 --save-every 60 --log "$out/dpo/train.jsonl"

# 3. Measure: base, SFT, SFT+DPO on the evaluation set (never trained on) and the held-out folder.
db="${DB:-$root/corpus.db}"
[ -s "$db" ] || "$rag" ingest "$root/corpus" --db "$db"
faq="$work/heldout/debian-faq"
[ -d "$faq" ] || python3 "$here/make_heldout.py" "$faq"
[ -s "$work/heldout.db" ] || "$rag" ingest "$faq" --db "$work/heldout.db"
no_adapter=(); "$rag" ask --help | grep -q -- --no-adapter && no_adapter=(--no-adapter)
for a in none "$out/sft" "$out/dpo"; do
    flag=("${no_adapter[@]}"); [ "$a" = none ] || flag=(--adapter "$a")
    name=$(basename "$a")
    "$rag" eval answers --db "$db" --queries "$root/corpus/questions.jsonl" "${flag[@]}" --json > "$out/eval-corpus-$name.json"
    "$rag" eval answers --db "$work/heldout.db" --queries "$here/heldout/debian-faq-questions.jsonl" "${flag[@]}" --json > "$out/eval-faq-$name.json"
done
python3 "$here/eval_table.py" "$out"/eval-*.json
