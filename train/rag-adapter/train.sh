#!/usr/bin/env bash
# Trains the default model's adapter: LoRA SFT on the grounded answers, then DPO from the SFT adapter.
#
#   train/rag-adapter/train.sh [WORK_DIR]        (default: train/rag-adapter/work, built by build-data.sh)
#
# Env: RAG (the rag binary; default .build/release/rag), OUT (where the adapters go; default
# train/rag-adapter/out), STAGES (default "sft dpo eval": any of them, in that order), PENALTIES (the
# repetition penalties evaluated; default "1.1 1"), MODELS (evaluated; default "base sft sft+dpo").
# Logs (JSONL, TRL's metric names) go beside each adapter.
# The flags are those of `rag finetune` (issue 13); every number of the recipe is on these lines.
set -euo pipefail
source "$(dirname "$0")/paths.sh"
out="${OUT:-$here/out}"
mkdir -p "$out"
[ -s "$work/sft.jsonl" ] && [ -s "$work/dpo.jsonl" ] || { echo "error: $work: no sft.jsonl/dpo.jsonl (run build-data.sh first)" >&2; exit 1; }

# The default model (SmolLM2-135M-Instruct Q4_1): QLoRA over the quantized weights.
# A prompt is the system message + five retrieved passages + the question: ~600–1,900 tokens of
# SmolLM2's tokenizer (1,026 on average); 2048 keeps them whole. The adapter covers the attention
# projections of the upper half of the layers (15-29): the backward pass stops at layer 15, which
# halves a step's cost, and the adapter stays small (r 16 on q, k, v, o of 15 layers: 3.7 MB in F32).
common=(--seed 15 --max-length 2048 --no-recompute)
lora=(--lora-r 16 --lora-alpha 32 --lora-dropout 0.05 --lora-targets q_proj,k_proj,v_proj,o_proj --lora-layers 15-29)

stages="${STAGES:-sft dpo eval}"
has() { [[ " $stages " == *" $1 "* ]]; }

# 1. SFT: loss on the answer tokens only; 90 steps of 8 examples (720 of the ~2,600: about a quarter
#    of an epoch, what about an hour of two cores allows; the loss has flattened by then).
has sft && "$rag" finetune sft "${common[@]}" "${lora[@]}" \
    --data "$work/sft.jsonl" --out "$out/sft" \
    --max-steps 90 --lr 3e-4 --warmup-ratio 0.05 --batch-size 1 --grad-accum 8 \
    --eval-split 0.01 --eval-every 45 --save-every 15 --log "$out/sft/train.jsonl"

# 2. DPO from the SFT adapter: sigmoid loss, beta 0.1; the reference is the SFT model (the policy's
#    adapter frozen at its start). 16 steps of 8 pairs at lr 5e-5 (12 steps at 3e-5 moved nothing).
has dpo && "$rag" finetune dpo "${common[@]}" \
    --adapter "$out/sft" \
    --data "$work/dpo.jsonl" --out "$out/dpo" \
    --beta 0.1 --max-steps 16 --lr 5e-5 --warmup-ratio 0.1 --batch-size 1 --grad-accum 8 \
    --eval-split 0.01 --eval-every 16 --save-every 4 --log "$out/dpo/train.jsonl"

has eval || exit 0
# 3. Measure: base, SFT, SFT+DPO on the evaluation set (never trained on) and the held-out folder,
#    with the old default repetition penalty (1.1) and without it (1, the default since). -> runs/
db="${DB:-$root/corpus.db}"
[ -s "$db" ] || "$rag" ingest "$root/corpus" --db "$db"
faq="$work/heldout/debian-faq"
if [ ! -d "$faq" ]; then
    # The held-out folder: the Debian FAQ (never in the training data).
    dpkg -s debian-faq >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debian-faq
    python3 "$here/make_heldout.py" "$faq"
fi
[ -s "$work/heldout.db" ] || "$rag" ingest "$faq" --db "$work/heldout.db"
runs="${RUNS:-$out/runs}"
mkdir -p "$runs"
evaluate() {  # evaluate NAME ADAPTER_FLAGS... : corpus and FAQ, repetition penalty 1.1 and 1
    local name=$1; shift
    for rp in ${PENALTIES:-1.1 1}; do
        "$rag" eval answers --db "$db" --queries "$root/corpus/questions.jsonl" "$@" --repeat-penalty "$rp" --json > "$runs/corpus-$name-rp$rp.json"
        "$rag" eval answers --db "$work/heldout.db" --queries "$here/heldout/debian-faq-questions.jsonl" "$@" --repeat-penalty "$rp" --json > "$runs/faq-$name-rp$rp.json"
    done
}
models=" ${MODELS:-base sft sft+dpo} "
[[ $models == *" base "* ]] && evaluate base --no-adapter
[[ $models == *" sft "* ]] && evaluate sft --adapter "$out/sft"
[[ $models == *" sft+dpo "* ]] && evaluate sft+dpo --adapter "$out/dpo"
python3 "$here/eval_table.py" "$runs"/corpus-*.json "$runs"/faq-*.json
