#!/usr/bin/env python3
"""Which layer's hidden state tells answerable from unanswerable questions, with transformers + peft.

    probe_layers.py WORK_DIR ADAPTER_DIR [--rag RAG_BINARY] [--limit N]

A cross-check of `rag eval refusal --probe-layers` over every layer (rag's own command reads the
layers it is given): for each question of WORK_DIR/calibration.jsonl (calibrate-refusal.sh: questions
of the training build the adapter never trained on), the prompt's ids as `rag ask --prompt-only`
gives them; the hidden states at its last token (transformers' numbering: 0 = the embeddings, 30 =
after the final norm) from SmolLM2-135M-Instruct (the Q4_1 GGUF in ~/.cache/rag/models, dequantized
by transformers) with the adapter; and per layer a logistic regression (standardised features, L2 on
the weights, L-BFGS) scored by 5-fold cross-validated AUC. Needs torch, transformers, peft and gguf
(pip); about 2 s a question on two cores. Never reads corpus/ or the held-out FAQ.
"""
import json, os, subprocess, sys

import numpy as np
import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def hidden_states(work, adapter, rag, limit):
    rows = [json.loads(l) for l in open(os.path.join(work, "calibration.jsonl"), encoding="utf-8")]
    if limit:  # (a smoke test: both kinds, from the two ends of the file)
        rows = rows[:limit // 2] + rows[-(limit - limit // 2):]
    questions = "".join(r["question"] + "\n" for r in rows)
    out = subprocess.run([rag, "ask", "-", "--prompt-only", "--json", "--db", os.path.join(work, "train.db")],
                         input=questions, capture_output=True, text=True, check=True).stdout
    prompts = [json.loads(l) for l in out.splitlines() if l.strip()]
    models = os.environ.get("RAG_MODELS", os.path.expanduser("~/.cache/rag/models"))
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(models, gguf_file=GGUF, dtype=torch.float32), adapter)
    model.eval()
    xs, ys = [], []
    for row, p in zip(rows, prompts):
        if p.get("refused"):
            continue  # the pipeline declines it itself: no model call
        ids = torch.tensor([p["promptTokens"]])  # the ids rag gives the model
        with torch.no_grad():
            states = model(ids, output_hidden_states=True).hidden_states
        xs.append(torch.stack([h[0, -1] for h in states]).numpy())  # [layers + 1, C]
        ys.append(1 if row["answerable"] else 0)
    return np.stack(xs), np.array(ys)


def auc(scores, y):
    a, u = scores[y == 1], scores[y == 0]
    return (a[:, None] > u[None]).mean() + 0.5 * (a[:, None] == u[None]).mean()


def fit(x, y, l2):
    x, y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * (w @ w)
        loss.backward()
        return loss
    opt.step(closure)
    return w.detach().numpy(), b.detach().numpy()


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    rag = args[args.index("--rag") + 1] if "--rag" in args else "rag"
    limit = int(args[args.index("--limit") + 1]) if "--limit" in args else 0
    x, y = hidden_states(args[0], args[1], rag, limit)
    print(f"{len(y)} questions, {y.sum()} answerable")
    perm = np.random.default_rng(0).permutation(len(y))
    folds = np.array_split(perm, 5)
    for layer in range(x.shape[1]):
        row = []
        for l2 in (1e-3, 1e-2, 1e-1):  # l2·|w|² here is rag's --probe-l2 of 2·l2
            scores = np.zeros(len(y))
            for held in folds:
                kept = np.setdiff1d(perm, held)
                mu, sd = x[kept, layer].mean(0), x[kept, layer].std(0) + 1e-6
                w, b = fit((x[kept, layer] - mu) / sd, y[kept], l2)
                scores[held] = ((x[held, layer] - mu) / sd) @ w + b
            row.append(f"l2 {l2:g}: {auc(scores, y):.3f}")
        print(f"after {layer:2d} blocks  " + "  ".join(row), flush=True)


if __name__ == "__main__":
    main()
