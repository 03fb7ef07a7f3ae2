#!/bin/sh
# bench-train at 1 and 2 threads, ours beside torch + peft and beside TRL's trainers (release build;
# pip install torch transformers peft gguf trl==1.12.0), in three settings:
#   default              SFT, DPO, reward model and PPO as `rag finetune` runs them by default
#                        (Float32, layers recomputed in backward); torch in float32, TRL with its
#                        default gradient checkpointing
#   --no-recompute       SFT, DPO, reward model keeping every activation, as torch does (TRL:
#                        gradient_checkpointing=False)
#   --bf16 --no-recompute  the same with the frozen weights' products in bf16 (`rag finetune --bf16`);
#                        torch under bf16 autocast (TRL's --bf16)
# Usage: bench/train/run.sh [extra args of bench-train, e.g. --steps 2]
set -e
cd "$(dirname "$0")/../.."
swift build -c release --product bench-train
for threads in 1 2; do
  for stage in sft dpo rm ppo; do
    RAG_THREADS=$threads .build/release/bench-train $stage "$@"
  done
  for setting in "--no-recompute" "--bf16 --no-recompute"; do
    for stage in sft dpo rm; do
      echo "setting: $setting"
      RAG_THREADS=$threads .build/release/bench-train $stage $setting "$@"
    done
  done
done
