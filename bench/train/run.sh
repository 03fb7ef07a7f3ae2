#!/bin/sh
# bench-train at 1 and 2 threads, SFT, DPO, reward model and PPO, ours beside torch + peft (release build).
# Usage: bench/train/run.sh [extra args of bench-train, e.g. --steps 2]
set -e
cd "$(dirname "$0")/../.."
swift build -c release --product bench-train
for threads in 1 2; do
  for stage in sft dpo rm ppo; do
    RAG_THREADS=$threads .build/release/bench-train $stage "$@"
  done
done
