#!/usr/bin/env python3
"""Pairs each question with the prompt `rag ask --prompt-only` built for it and writes SFT examples.

    make_sft.py QUESTIONS.jsonl PROMPTS.jsonl OUT_DIR [--seed N] [--unanswerable-share 0.1]

PROMPTS.jsonl holds the `rag ask - --prompt-only --json` line of every question (matched by its text).
An example is kept when its answer is clear-cut:
- answerable: a retrieved passage contains the fact's sentence (normalised tokens, as `rag eval
  answers` matches; a sentence under six tokens counts only beside its subject); the target is the
  reference sentence citing the first such passage as [n];
- unanswerable: no retrieved passage contains even the first eight tokens of the sentence (its
  document was held back from the base, or retrieval missed it); the target is a one-sentence
  "I don't know", always in the same words (REFUSAL); their share is capped at a tenth: with a fifth
  in four wordings, longer training taught the small model to decline whenever it was unsure.
Questions the pipeline refuses itself (nothing above --min-relevance) and ambiguous ones (the
sentence split across chunks) are dropped. Writes OUT_DIR/sft.jsonl ({"messages": [...]}, the
`rag finetune sft` format), OUT_DIR/sft.meta.jsonl (the same lines' provenance) and
OUT_DIR/sample-queries.jsonl (the questions in `rag eval answers` format, for sampling the base model).
"""
import json, os, random, sys
from collections import Counter
from common import tokens, contains, cite, REFUSAL


def classify(questions, prompts):
    """Splits questions into clear-cut answerable and unanswerable ones (see the module's docstring).
    Returns (answerable, unanswerable, dropped): lists of (question, messages, target, holders, passage count)
    and a Counter of why the others were dropped."""
    answerable, unanswerable, dropped = [], [], Counter()
    for q, p in zip(questions, prompts):
        if p["refused"]:
            dropped["refused by the pipeline"] += 1
            continue
        ev = tokens(q["evidence"])
        # A short sentence ("The default is 10min.") is located only together with its subject.
        subject = tokens(q["subject"]) if len(ev) < 6 else []
        if len(ev) < 3 or (len(ev) < 6 and not subject):
            dropped["evidence too short to locate"] += 1
            continue
        passage_tokens = [tokens(x["text"]) for x in p["passages"]]
        holders = [x["n"] for x, t in zip(p["passages"], passage_tokens) if contains(t, ev) and (not subject or contains(t, subject))]
        gold = holders[0] if holders else None
        probe = ev[:8]
        partial = any(contains(t, probe) for t in passage_tokens)
        messages = p["messages"]
        if gold is not None and not q["heldback"]:
            answerable.append((q, messages, cite(q["answer"], gold), holders, len(p["passages"])))
        elif not partial:
            unanswerable.append((q, messages, REFUSAL, [], len(p["passages"])))
        else:
            dropped["fact split across passages"] += 1
    return answerable, unanswerable, dropped


def load(q_path, p_path):
    """The questions and, line for line, the prompt `rag ask --prompt-only` built for each."""
    questions = [json.loads(l) for l in open(q_path, encoding="utf-8")]
    prompt_of = {}
    for line in open(p_path, encoding="utf-8"):
        p = json.loads(line)
        prompt_of[p["question"]] = p
    missing = [q["question"] for q in questions if q["question"] not in prompt_of]
    if missing:
        sys.exit(f"{p_path}: no prompt for {len(missing)} questions of {q_path}, e.g. {missing[0]!r}")
    return questions, [prompt_of[q["question"]] for q in questions]


def main():
    args = sys.argv[1:]
    q_path, p_path, out_dir = args[0], args[1], args[2]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 15
    share = float(args[args.index("--unanswerable-share") + 1]) if "--unanswerable-share" in args else 0.1
    rng = random.Random(seed)
    answerable, unanswerable, dropped = classify(*load(q_path, p_path))
    cap = int(len(answerable) * share / (1 - share))
    rng.shuffle(unanswerable)
    dropped["unanswerable over the cap"] = max(0, len(unanswerable) - cap)
    unanswerable = unanswerable[:cap]
    examples = answerable + unanswerable
    rng.shuffle(examples)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "sft.jsonl"), "w", encoding="utf-8") as sft, \
            open(os.path.join(out_dir, "sft.meta.jsonl"), "w", encoding="utf-8") as meta, \
            open(os.path.join(out_dir, "sample-queries.jsonl"), "w", encoding="utf-8") as sq:
        for q, messages, target, holders, count in examples:
            gold = holders[0] if holders else None
            sft.write(json.dumps({"messages": messages + [{"role": "assistant", "content": target}]}, ensure_ascii=False) + "\n")
            meta.write(json.dumps({"id": q["id"], "question": q["question"], "kind": q["kind"], "file": q["file"], "gold": gold, "holders": holders, "passages": count,
                                   "subject": q["subject"], "answer": q["answer"],
                                   "evidence": q["evidence"], "answerable": gold is not None}, ensure_ascii=False) + "\n")
            sq.write(json.dumps({"id": q["id"], "question": q["question"], "answer": q["evidence"] if gold else None,
                                 "relevant": [q["file"]] if gold else [], "answerable": gold is not None}, ensure_ascii=False) + "\n")
    positions = Counter(e[3][0] for e in answerable)
    print(f"SFT: {len(examples)} examples, {len(answerable)} answerable, {len(unanswerable)} unanswerable; "
          f"cited passage position {dict(sorted(positions.items()))}; dropped {dict(dropped)}", file=sys.stderr)


if __name__ == "__main__":
    main()
