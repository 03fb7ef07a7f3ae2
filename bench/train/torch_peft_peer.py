#!/usr/bin/env python3
"""Benchmark peer of bench-train: one LoRA training step of torch + peft on CPU, the same batch.

    python3 bench/train/torch_peft_peer.py MODEL.gguf THREADS sft|dpo|rm|ppo STEPS [RESPONSE] [f32|bf16] < batch.json

(bench-train also passes recompute|keep, which trl_peer.py reads; this step always keeps every activation.)

batch.json is {"ids": [[...], ...], "targets": [[...], ...]} (rows × T; target -100 = no loss), the
token ids bench-train itself trains on, or for ppo {"prompts": [[...], ...]} (the chat prompts' ids).
The model is the same GGUF, dequantized to float32 by transformers (torch has no Q4_1 matmul); LoRA
r = 8, alpha 16, on q_proj and v_proj, AdamW lr 1e-4, gradient clipping at 1. Each stage is the
computation TRL's trainer runs per step:
  sft  mean cross-entropy over every target;
  dpo  the reference pass (adapter disabled, no gradient), then the policy's forward and backward;
  rm   rows are B chosen then B rejected sequences; a linear head [1, C] on the last token's hidden
       state, -log sigmoid(r_chosen - r_rejected) (RewardTrainer);
  ppo  sampling up to RESPONSE tokens per prompt (temperature 0.7, stopping at end of turn), the
       policy's and critic's pass and the reference's (no gradient), GAE, one epoch of clipped policy
       and value updates (PPOTrainer's step, the reward a cheap function of the response as in ours).
With bf16 (sft, dpo, rm) the forward passes run under torch.autocast("cpu", dtype=torch.bfloat16), what
TRL's --bf16 does: the linear layers multiply in bf16 (ours with --bf16: the frozen weights' products).
Prints one JSON line: mean wall seconds and CPU seconds per step (the first step is a warm-up and
not counted), peak RSS in KB (ppo: also the mean response length).
"""
import contextlib, json, os, resource, sys, time

os.environ.setdefault("TQDM_DISABLE", "1")   # the GGUF loader's progress bars

import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()      # keep the bench's output to its figures
hf_logging.disable_progress_bar()

model_path, threads, stage, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
response = int(sys.argv[5]) if len(sys.argv) > 5 else 32
bf16 = len(sys.argv) > 6 and sys.argv[6] == "bf16"
autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext
torch.set_num_threads(threads)
torch.manual_seed(0)
batch = json.load(sys.stdin)

base = AutoModelForCausalLM.from_pretrained(os.path.dirname(model_path), gguf_file=os.path.basename(model_path),
                                            dtype=torch.float32)
model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
model.train()
head = torch.nn.Linear(base.config.hidden_size, 1, bias=False)   # reward head (rm) or critic (ppo)
params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)

if stage != "ppo":
    ids = torch.tensor(batch["ids"])
    targets = torch.tensor(batch["targets"])


def target_log_probs():
    with autocast():
        logits = model(input_ids=ids).logits                              # [B, T, V]
    mask = targets != -100
    picked = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return picked * mask, mask


def rm_step():
    with autocast():
        hidden = model(input_ids=ids, output_hidden_states=True).hidden_states[-1]   # [2B, T, C] (after the final norm)
        r = head(hidden[:, -1, :]).squeeze(-1).float()                               # [2B]
    half = r.shape[0] // 2
    return -torch.nn.functional.logsigmoid(r[:half] - r[half:]).mean()


prompts = [torch.tensor([p]) for p in batch.get("prompts", [])]
end = base.config.eos_token_id
generated = []


def ppo_step():
    sequences, starts = [], []
    with torch.no_grad():
        for p in prompts:   # sampled one prompt at a time, as ours (no padding)
            out = model.generate(input_ids=p, attention_mask=torch.ones_like(p), do_sample=True, temperature=0.7, top_k=0,
                                 top_p=1.0, max_new_tokens=response, pad_token_id=end)
            sequences.append(out)
            starts.append(p.shape[1])
            generated.append(out.shape[1] - p.shape[1])
    loss_total = 0.0
    rollouts = []
    with torch.no_grad():
        for seq, start in zip(sequences, starts):
            out = model(input_ids=seq, output_hidden_states=True)
            logp = torch.log_softmax(out.logits[0, start - 1:-1] / 0.7, -1).gather(-1, seq[0, start:].unsqueeze(-1)).squeeze(-1)
            values = head(out.hidden_states[-1][0, start - 1:-1]).squeeze(-1)
            with model.disable_adapter():
                ref = model(input_ids=seq).logits
            ref_logp = torch.log_softmax(ref[0, start - 1:-1] / 0.7, -1).gather(-1, seq[0, start:].unsqueeze(-1)).squeeze(-1)
            rewards = -0.05 * (logp - ref_logp)
            rewards[-1] += (seq.shape[1] - start) % 7 / 7
            adv, last = torch.zeros_like(rewards), 0.0
            for t in reversed(range(rewards.shape[0])):
                next_value = values[t + 1] if t + 1 < values.shape[0] else 0.0
                last = rewards[t] + next_value - values[t] + 0.95 * last
                adv[t] = last
            rollouts.append((seq, start, logp, values, adv, adv + values))
    all_adv = torch.cat([r[4] for r in rollouts])
    mean, std = all_adv.mean(), all_adv.std() + 1e-8
    tokens = sum(r[2].shape[0] for r in rollouts)
    for seq, start, old_logp, old_values, adv, returns in rollouts:
        out = model(input_ids=seq, output_hidden_states=True)
        logp = torch.log_softmax(out.logits[0, start - 1:-1] / 0.7, -1).gather(-1, seq[0, start:].unsqueeze(-1)).squeeze(-1)
        values = head(out.hidden_states[-1][0, start - 1:-1]).squeeze(-1)
        a = (adv - mean) / std
        ratio = torch.exp(logp - old_logp)
        pg = torch.max(-a * ratio, -a * ratio.clamp(0.8, 1.2)).sum()
        clipped = old_values + (values - old_values).clamp(-0.2, 0.2)
        vf = 0.5 * torch.max((values - returns) ** 2, (clipped - returns) ** 2).sum()
        loss = (pg + 0.1 * vf) / tokens
        loss.backward()
        loss_total += float(loss)
    return None


walls, cpus = [], []
for step in range(steps + 1):
    t0, c0 = time.perf_counter(), time.process_time()
    if stage == "ppo":
        ppo_step()
    elif stage == "rm":
        rm_step().backward()
    else:
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
line = {"seconds": sum(walls) / len(walls), "cpu_seconds": sum(cpus) / len(cpus),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
if stage == "ppo":
    line["response_tokens"] = sum(generated[len(prompts):]) / max(len(generated) - len(prompts), 1)
print(json.dumps(line))
