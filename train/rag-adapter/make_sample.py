#!/usr/bin/env python3
"""A small, readable sample of the built data, for the repository.

    make_sample.py WORK_DIR SAMPLE_DIR [--n 24]

Writes SAMPLE_DIR/sft.jsonl and SAMPLE_DIR/dpo.jsonl (n lines each, every question kind and every
kind of rejected answer represented) and SAMPLE_DIR/README.md showing a few of them as text.
"""
import json, os, random, sys
from collections import defaultdict


def pick(rows, key, n, rng):
    """n rows, round-robin over the values of key, so each kind appears."""
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    for g in groups.values():
        rng.shuffle(g)
    out, names = [], sorted(groups)
    while len(out) < n and any(groups.values()):
        for k in names:
            if groups[k] and len(out) < n:
                out.append(groups[k].pop())
    return out


def load(work, name):
    data = [json.loads(l) for l in open(os.path.join(work, f"{name}.jsonl"), encoding="utf-8")]
    meta = [json.loads(l) for l in open(os.path.join(work, f"{name}.meta.jsonl"), encoding="utf-8")]
    return list(zip(data, meta))


def main():
    work, out = sys.argv[1], sys.argv[2]
    n = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 24
    rng = random.Random(15)
    os.makedirs(out, exist_ok=True)
    sft = pick(load(work, "sft"), lambda r: (r[1]["answerable"], r[1]["kind"]), n, rng)
    dpo = pick(load(work, "dpo"), lambda r: r[1]["rejected"], n, rng)
    for name, rows in (("sft", sft), ("dpo", dpo)):
        with open(os.path.join(out, f"{name}.jsonl"), "w", encoding="utf-8") as w:
            for d, _ in rows:
                w.write(json.dumps(d, ensure_ascii=False) + "\n")
    md = ["# A sample of the adapter's training data", "",
          "Built by `build-data.sh`; `sft.jsonl` and `dpo.jsonl` here are lines of the full files (which are not",
          "committed). Below, a few of them as the model reads them (passages shortened to 300 characters here only).", ""]
    def short_user(text):
        parts = text.split("\n\n[")
        return "\n\n[".join(p if len(p) < 320 else p[:300] + " …" for p in parts)
    shown = [r for r in sft if r[1]["answerable"]][:3] + [r for r in sft if not r[1]["answerable"]][:1]
    for d, m in shown:
        md += [f"## SFT: {m['kind']}, {'answerable, cites [' + str(m['gold']) + ']' if m['answerable'] else 'unanswerable'}", "",
               "**user**", "", "```", short_user(d["messages"][1]["content"]), "```", "",
               "**assistant (target)**", "", "> " + d["messages"][2]["content"], ""]
    for d, m in dpo[:4]:
        md += [f"## DPO: rejected = {m['rejected']}", "", "question: " + d["prompt"][1]["content"].rsplit("Question: ", 1)[-1], "",
               "**chosen**", "", "> " + d["chosen"][0]["content"], "", "**rejected**", "", "> " + d["rejected"][0]["content"].replace("\n", " "), ""]
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as w:
        w.write("\n".join(md))


if __name__ == "__main__":
    main()
