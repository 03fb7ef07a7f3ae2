#!/usr/bin/env python3
"""How far first-citation accuracy can go with the passages retrieval hands over, and where answers miss.

    citation_ceiling.py RAG DB QUESTIONS.jsonl EVAL_RUN.json

For each answerable question of QUESTIONS.jsonl: which of the k = 5 passages `rag search` returns
(hybrid, as `rag ask`) contain the reference answer (compared as `rag eval answers` compares), and
which passage the answer in EVAL_RUN.json (`rag eval answers --json`) cites first. Prints the share
with an answer-holding passage among the five (the ceiling of first-citation accuracy), with it
first, and a table of first cited passage against the first passage holding the answer. Reads an
evaluation set to measure it, never to train or tune.
"""
import collections, json, re, subprocess, sys, os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import contains, tokens  # noqa: E402


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    rag, db, qfile, run = sys.argv[1:]
    records = {r["id"]: r for r in json.load(open(run, encoding="utf-8"))["records"]}
    rows = []
    for line in open(qfile, encoding="utf-8"):
        q = json.loads(line)
        if not q.get("answerable", True) or not q.get("answer") or q["id"] not in records:
            continue
        out = subprocess.run([rag, "search", q["question"], "--db", db, "--k", "5", "--json"],
                             capture_output=True, text=True, check=True).stdout
        hits = json.loads(out)["hits"]
        holding = [i + 1 for i, h in enumerate(hits) if contains(tokens(h["text"]), tokens(q["answer"]))]
        cited = re.findall(r"\[(\d+)\]", records[q["id"]]["answer"])
        rows.append((holding[0] if holding else None, int(cited[0]) if cited else None,
                     records[q["id"]]["firstCitedContainsAnswer"] and not records[q["id"]]["refused"]))
    n = len(rows)
    print(f"answerable questions: {n}")
    print(f"a passage among the 5 holds the answer: {sum(h is not None for h, _, _ in rows) / n:.3f}")
    print(f"the first passage holds it: {sum(h == 1 for h, _, _ in rows) / n:.3f}")
    print(f"first citation holds it (the run): {sum(ok for _, _, ok in rows) / n:.3f}")
    table = collections.Counter((h, c) for h, c, _ in rows)
    cols = sorted({c for _, c, _ in rows if c is not None}) + [None]
    print("first holding \\ first cited: " + "  ".join(str(c or "none") for c in cols))
    for h in [1, 2, 3, 4, 5, None]:
        print(f"  {h or 'none':>5}: " + "  ".join(f"{table[(h, c)]:>3}" for c in cols))


if __name__ == "__main__":
    main()
