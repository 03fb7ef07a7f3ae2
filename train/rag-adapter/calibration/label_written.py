#!/usr/bin/env python3
"""Keeps the written calibration questions whose label holds for what retrieval hands the model.

    label_written.py RAG TRAIN_DB OUT.jsonl QUESTIONS.jsonl...

Each question goes through `rag ask - --prompt-only --json` (the pipeline's own retrieval and prompt).
An answerable question is kept when a passage of its prompt contains its evidence span or its short
answer (compared as `rag eval answers` compares), so its label says "the passages hold the answer";
otherwise it is dropped (the retriever missed it, or the answer is paraphrased beyond matching).
Unanswerable questions were checked when written (grep over the ingested documents, and the
retrieved passages read); they are kept as they are. Writes {"id","question","answer","relevant",
"answerable"} lines, the format of `rag eval refusal --queries`, and prints what it kept.
"""
import json, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from common import contains, tokens  # noqa: E402  (rag eval answers' normalisation)


def holds(text, needle):
    return contains(tokens(text), tokens(needle or ""))


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    rag, db, out = sys.argv[1:4]
    questions = []
    for path in sys.argv[4:]:
        for number, line in enumerate(open(path, encoding="utf-8"), 1):
            if not line.strip():
                continue
            try:
                q = json.loads(line)
                q["question"], q["answerable"]
            except (ValueError, KeyError) as e:
                sys.exit(f"{path}:{number}: not a question line ({e})")
            questions.append(q)
    asked = "".join(q["question"].replace("\n", " ") + "\n" for q in questions)
    result = subprocess.run([rag, "ask", "-", "--prompt-only", "--json", "--db", db],
                            input=asked, capture_output=True, text=True, check=True).stdout
    prompts = [json.loads(l) for l in result.splitlines() if l.strip()]
    if len(prompts) != len(questions):
        sys.exit(f"rag ask --prompt-only gave {len(prompts)} prompts for {len(questions)} questions")
    kept, dropped = {True: 0, False: 0}, []
    with open(out, "w", encoding="utf-8") as w:
        for q, p in zip(questions, prompts):
            text = "\n".join(x["text"] for x in p["passages"])
            if q["answerable"] and not (holds(text, q.get("evidence")) or holds(text, q.get("answer"))):
                dropped.append(q["id"])
                continue
            kept[q["answerable"]] += 1
            w.write(json.dumps({"id": q["id"], "question": q["question"],
                                "answer": q["answer"] if q["answerable"] else None,
                                "relevant": q.get("relevant", []), "answerable": q["answerable"]},
                               ensure_ascii=False) + "\n")
    print(f"written questions: {kept[True]} answerable, {kept[False]} unanswerable kept; "
          f"{len(dropped)} answerable dropped (retrieval does not hand over their evidence)"
          + (f": {' '.join(dropped)}" if dropped else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
