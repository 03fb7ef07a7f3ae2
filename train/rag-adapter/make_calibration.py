#!/usr/bin/env python3
"""Questions for calibrating the adapter's refusal bias (`rag eval refusal`), none of them trained on.

    make_calibration.py WORK_DIR TRAINED_ITEMS OUT.jsonl [--n 300] [--seed 15]

Answerable: SFT examples (WORK_DIR/sft.meta.jsonl) whose line SFT did not train on: TRAINED_ITEMS is
the output of trained_items.swift for the SFT run (its "seen" line; the held-out split is fair game).
DPO trained on 128 pairs whose prompts are SFT questions; those of this data build cannot be named
(the pairs differ with the sampled answers), so about 5 % of the answerable ones may have been seen by DPO.
Unanswerable: questions make_sft.py classifies as unanswerable but left out over its cap (never in SFT;
DPO's pairs come from the SFT examples). N of each, drawn with the seed; written in the format of
`rag eval answers` ({"id", "question", "answer", "relevant", "answerable"}), against WORK_DIR/train.db.
Never reads corpus/ or the held-out FAQ.
"""
import json, os, random, sys
from make_sft import classify, load


def main():
    args = sys.argv[1:]
    work, trained, out = args[0], args[1], args[2]
    n = int(args[args.index("--n") + 1]) if "--n" in args else 300
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 15
    seen = set()
    for line in open(trained, encoding="utf-8"):
        if line.startswith("seen "):
            seen = {int(x) for x in line.split()[1:]}
    if not seen:
        sys.exit(f"{trained}: no 'seen' line (the output of trained_items.swift)")
    meta = [json.loads(l) for l in open(os.path.join(work, "sft.meta.jsonl"), encoding="utf-8")]
    in_sft = {m["id"] for m in meta}
    answerable = [m for i, m in enumerate(meta) if m["answerable"] and i not in seen]
    _, unanswerable, _ = classify(*load(os.path.join(work, "questions.jsonl"), os.path.join(work, "prompts.jsonl")))
    unanswerable = [e[0] for e in unanswerable if e[0]["id"] not in in_sft]
    rng = random.Random(seed)
    rng.shuffle(answerable)
    rng.shuffle(unanswerable)
    rows = [{"id": m["id"], "question": m["question"], "answer": m["evidence"], "relevant": [m["file"]], "answerable": True}
            for m in answerable[:n]]
    rows += [{"id": q["id"], "question": q["question"], "answer": None, "relevant": [], "answerable": False}
             for q in unanswerable[:n]]
    rng.shuffle(rows)
    with open(out, "w", encoding="utf-8") as w:
        for r in rows:
            w.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{out}: {min(n, len(answerable))} answerable (of {len(answerable)} not trained on), "
          f"{min(n, len(unanswerable))} unanswerable (of {len(unanswerable)} left out of SFT)", file=sys.stderr)


if __name__ == "__main__":
    main()
