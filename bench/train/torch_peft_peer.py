#!/usr/bin/env python3
"""Benchmark peer of bench-train: one LoRA training step of torch + peft on CPU, the same batch.

    python3 bench/train/torch_peft_peer.py MODEL.gguf THREADS sft|dpo STEPS < batch.json

batch.json is {"ids": [[...], ...], "targets": [[...], ...]} (rows × T; target -100 = no loss), the
token ids bench-train itself trains on. The model is the same GGUF, dequantized to float32 by
transformers (torch has no Q4_1 matmul); LoRA r = 8, alpha 16, on q_proj and v_proj, AdamW lr 1e-4,
gradient clipping at 1. SFT: mean cross-entropy over every target. DPO: the reference pass (adapter
disabled, no gradient) then the policy's forward and backward, as `rag finetune dpo` runs a step.
Prints one JSON line: mean wall seconds and CPU seconds per step (the first step is a warm-up and
not counted), peak RSS in KB.
"""
import json, os, resource, sys, time

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()      # keep the bench's output to its figures
hf_logging.disable_progress_bar()

model_path, threads, stage, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.set_num_threads(threads)
batch = json.load(sys.stdin)
ids = torch.tensor(batch["ids"])
targets = torch.tensor(batch["targets"])

base = AutoModelForCausalLM.from_pretrained(os.path.dirname(model_path), gguf_file=os.path.basename(model_path),
                                            dtype=torch.float32)
model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
model.train()
params = [p for p in model.parameters() if p.requires_grad]
optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)


def target_log_probs():
    logits = model(input_ids=ids).logits                                  # [B, T, V]
    mask = targets != -100
    picked = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return picked * mask, mask


walls, cpus = [], []
for step in range(steps + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    if stage == "dpo":
        with torch.no_grad(), model.disable_adapter():
            target_log_probs()
    logp, mask = target_log_probs()
    loss = -logp.sum() / mask.sum()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    optimizer.zero_grad()
    if step > 0:   # step 0 warms up
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
print(json.dumps({"seconds": sum(walls) / len(walls), "cpu_seconds": sum(cpus) / len(cpus),
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
