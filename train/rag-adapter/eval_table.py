#!/usr/bin/env python3
"""A Markdown table from `rag eval answers --json` outputs.

    eval_table.py RUN.json [RUN.json ...]

One row per run, named by the file's stem; files named NAME.partN.json (one question file split
across processes run side by side) are merged into the row NAME, the summary recomputed from the
records as `rag eval answers` computes it. "cites" is the share of all answers that cite a passage
[1]..[k]; the other columns are `rag eval answers`' own: token F1 and key fact (the answer contains
the reference answer) over answerable questions, citation accuracy (a cited passage contains the
reference answer, in an answer that does not decline), first citation (the first cited passage does), refusal accuracy on unanswerable
questions, over-refusal on answerable ones, median latency per question.
"""
import json, os, re, sys
from common import contains, tokens
from collections import defaultdict

CITE = re.compile(r"\[(\s*\d+(\s*[-,;]\s*\d+)*\s*)\]")
K = 5  # passages per prompt, as `rag ask` and `rag eval answers` retrieve


def cites(answer):
    return any(1 <= int(n) <= K for m in CITE.finditer(answer) for n in re.findall(r"\d+", m.group(1)))


def key_fact(record):
    """The answer contains the reference (`rag eval answers`' keyFactMatch; computed the same way for older records)."""
    if "keyFactMatch" in record:
        return record["keyFactMatch"]
    return contains(tokens(record["answer"]), tokens(record["reference"] or ""))


def mean(xs):
    return sum(xs) / len(xs) if xs else 0.0


def main():
    runs = defaultdict(list)
    for path in sys.argv[1:]:
        name = re.sub(r"\.part\d+$", "", os.path.splitext(os.path.basename(path))[0])
        runs[name] += json.load(open(path, encoding="utf-8"))["records"]
    print("| run | questions | token F1 | key fact | citation accuracy | first citation | cites | refusal accuracy | over-refusal | median latency (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, recs in runs.items():
        ans = [r for r in recs if r["answerable"]]
        un = [r for r in recs if not r["answerable"]]
        lat = sorted(r["latencyMs"] for r in recs)
        # A declining answer earns no citation credit (as `rag eval answers` counts since; applied to older runs' records too).
        first = (f"{mean([r['firstCitedContainsAnswer'] and not r['refused'] for r in ans]):.3f}" if all("firstCitedContainsAnswer" in r for r in ans)
                 else "–")   # records of an older `rag eval answers` lack it
        row = [f"{len(recs)} ({len(un)} unanswerable)", mean([r["f1"] for r in ans]), mean([key_fact(r) for r in ans]),
               mean([r["citedContainsAnswer"] and not r["refused"] for r in ans]), first, mean([cites(r["answer"]) for r in recs]),
               mean([r["refused"] for r in un]), mean([r["refused"] for r in ans]), lat[len(lat) // 2] / 1000 if lat else 0]
        print(f"| {name} | " + " | ".join(x if isinstance(x, str) else f"{x:.3f}" for x in row[:-1]) + f" | {row[-1]:.0f} |")


if __name__ == "__main__":
    main()
