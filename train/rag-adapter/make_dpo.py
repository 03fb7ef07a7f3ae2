#!/usr/bin/env python3
"""Preference pairs for `rag finetune dpo` from the SFT examples and the base model's own answers.

    make_dpo.py OUT_DIR [--base-samples BASE.json] [--pairs N] [--seed S]

Reads OUT_DIR/sft.jsonl and OUT_DIR/sft.meta.jsonl (make_sft.py). The prompt is the example's
system and user messages (exactly what `rag ask` sends); chosen is its grounded, cited answer (or
its one-sentence "I don't know"). Rejected is one of:
  base       the base model's own answer to the same prompt (`rag eval answers --json` on
             sample-queries.jsonl, read from BASE.json), kept where it is wrong: an answerable
             question answered without citing a passage that holds the fact, or declined; an
             unanswerable one answered instead of declined;
  wrong-cite the chosen sentence citing a retrieved passage that does not hold the fact;
  invented   a fluent answer stating another fact of the same kind about this subject, citing
             a passage (for unanswerable questions: a confident invented answer instead of "I don't know");
  refusal    "I don't know" where the passages do answer (three pairs in ten: declining an answerable
             question is the failure longer SFT showed).
Writes OUT_DIR/dpo.jsonl ({"prompt": [...], "chosen": [...], "rejected": [...]}, message lists) and
OUT_DIR/dpo.meta.jsonl (id and kind of each pair).
"""
import json, os, random, re, sys
from collections import Counter, defaultdict
from common import cite, REFUSAL

SHARES = {"wrong-cite": 0.35, "invented": 0.35, "refusal": 0.30}   # of the pairs not from base samples


def main():
    args = sys.argv[1:]
    out_dir = args[0]
    opt = lambda name, default: args[args.index(name) + 1] if name in args else default
    rng = random.Random(int(opt("--seed", "15")))
    total = int(opt("--pairs", "1500"))
    base_path = opt("--base-samples", None)
    sft = [json.loads(l) for l in open(os.path.join(out_dir, "sft.jsonl"), encoding="utf-8")]
    meta = [json.loads(l) for l in open(os.path.join(out_dir, "sft.meta.jsonl"), encoding="utf-8")]
    by_question = {m["question"]: (s, m) for s, m in zip(sft, meta)}
    by_kind = defaultdict(list)
    for s, m in zip(sft, meta):
        if m["answerable"]:
            by_kind[m["kind"]].append(m)

    pairs, used = [], set()

    def add(s, m, rejected, kind):
        prompt, chosen = s["messages"][:-1], s["messages"][-1]["content"]
        if rejected.strip() == chosen.strip():
            return
        pairs.append(({"prompt": prompt, "chosen": [{"role": "assistant", "content": chosen}],
                       "rejected": [{"role": "assistant", "content": rejected.strip()}]}, {"id": m["id"], "rejected": kind}))
        used.add(m["id"])

    if base_path:
        records = json.load(open(base_path, encoding="utf-8"))["records"]
        for r in records:   # matched by the question's text (ids are positions in one build's question list)
            if r["question"] not in by_question:
                continue
            s, m = by_question[r["question"]]
            wrong = (not r["citedContainsAnswer"] or r["refused"]) if m["answerable"] else not r["refused"]
            if wrong and r["answer"].strip():
                add(s, m, r["answer"], "base")

    def command(m):
        """The command a man-page fact is about ("man/realpath.1.md" -> "realpath")."""
        return os.path.basename(m["file"]).split(".")[0] if m["file"].startswith("man/") else None

    def invention(m):
        """Another example's answer of the same kind, its subject (and command) swapped for this one's."""
        pool = by_kind.get(m["kind"]) or [x for xs in by_kind.values() for x in xs]
        for _ in range(20):
            other = rng.choice(pool)
            if other["id"] != m["id"] and other["subject"] in other["answer"] and other["evidence"] != m["evidence"]:
                text = other["answer"]
                if m["kind"] == "option":   # "With -z (--zero), realpath will ..." -> "With -v, diff3 will ..."
                    text = re.sub(re.escape(other["subject"]) + r" \([^)]*\)", other["subject"], text, count=1)
                if command(other) and command(m):
                    text = re.sub(r"\b" + re.escape(command(other)) + r"\b", command(m), text, count=1)
                return text.replace(other["subject"], m["subject"], 1)
        return None

    remaining = max(0, total - len(pairs))
    candidates = [(s, m) for s, m in zip(sft, meta) if m["id"] not in used]
    rng.shuffle(candidates)
    quota = {k: int(round(v * remaining)) for k, v in SHARES.items()}
    for s, m in candidates:
        if sum(quota.values()) <= 0:
            break
        if not m["answerable"]:
            if quota["invented"] > 0 and (text := invention(m)):
                add(s, m, cite(text, rng.randint(1, max(1, m["passages"]))), "invented")
                quota["invented"] -= 1
            continue
        others = [n for n in range(1, m["passages"] + 1) if n not in m["holders"]]
        order = sorted(quota, key=lambda k: -quota[k])
        for kind in order:
            if quota[kind] <= 0:
                continue
            if kind == "wrong-cite" and others:
                add(s, m, cite(m["answer"], rng.choice(others)), kind)
            elif kind == "invented" and (text := invention(m)):
                add(s, m, cite(text, m["gold"]), kind)
            elif kind == "refusal":
                add(s, m, REFUSAL, kind)
            else:
                continue
            quota[kind] -= 1
            break
    rng.shuffle(pairs)
    with open(os.path.join(out_dir, "dpo.jsonl"), "w", encoding="utf-8") as w, \
            open(os.path.join(out_dir, "dpo.meta.jsonl"), "w", encoding="utf-8") as wm:
        for p, m in pairs:
            w.write(json.dumps(p, ensure_ascii=False) + "\n")
            wm.write(json.dumps(m, ensure_ascii=False) + "\n")
    print(f"DPO: {len(pairs)} pairs, rejected {dict(Counter(m['rejected'] for _, m in pairs))}", file=sys.stderr)


if __name__ == "__main__":
    main()
