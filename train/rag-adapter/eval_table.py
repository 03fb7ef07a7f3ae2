#!/usr/bin/env python3
"""A Markdown table from `rag eval answers --json` outputs.

    eval_table.py RUN.json [RUN.json ...]

One row per file (named by the file's stem). "cites" is the share of answers (to answerable and
unanswerable questions, the pipeline's own refusals excluded) that cite a passage [1]..[k]; the other
columns are `rag eval answers`' own: token F1 and exact match over answerable questions, citation
accuracy (a cited passage contains the reference answer), refusal accuracy on unanswerable questions,
over-refusal on answerable ones, median latency per question.
"""
import json, os, re, sys

CITE = re.compile(r"\[(\s*\d+(\s*[-,;]\s*\d+)*\s*)\]")
K = 5  # passages per prompt, as `rag ask` and `rag eval answers` retrieve


def cites(answer):
    for m in CITE.finditer(answer):
        if any(1 <= int(n) <= K for n in re.findall(r"\d+", m.group(1))):
            return True
    return False


def main():
    print("| run | questions | token F1 | exact match | citation accuracy | cites | refusal accuracy | over-refusal | median latency (ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        d = json.load(open(path, encoding="utf-8"))
        s, recs = d["summary"], d["records"]
        share = sum(cites(r["answer"]) for r in recs) / max(1, len(recs))
        name = os.path.splitext(os.path.basename(path))[0]
        print(f"| {name} | {s['questions']} ({s['unanswerable']} unanswerable) | {s['f1']:.3f} | {s['exactMatch']:.3f} | "
              f"{s['citationAccuracy']:.3f} | {share:.3f} | {s['refusalAccuracy']:.3f} | {s['falseRefusalRate']:.3f} | "
              f"{s['latencyMsP50']:.0f} |")


if __name__ == "__main__":
    main()
