#!/usr/bin/env python3
"""Turns the facts docs_to_markdown.py found into questions with a one-sentence reference answer.

    make_questions.py FACTS.jsonl QUESTIONS.jsonl HELDBACK.txt [--seed N] [--per-fact K]

Every question is asked about one fact of one document; a fact is asked about in up to K (3)
differently worded questions (retrieval then orders the passages differently too). A stable tenth of the documents is held
back (listed in HELDBACK.txt, one path a line): they are not ingested, so questions about them have
no answer in the training base and teach the model to say it does not know.
Writes {"id", "question", "file", "kind", "term", "evidence", "answer", "subject", "heldback"} per line, where
`evidence` is the document's sentence that states the fact, `answer` the target sentence (without
its citation, which depends on where the passage lands in the retrieved list) and `subject` the
words of the answer that name what is asked about.
Python 3 standard library only.
"""
import hashlib, json, random, re, sys
from collections import defaultdict

PRODUCT = {"postgresql": "PostgreSQL", "sqlite": "SQLite", "octave": "GNU Octave", "gnuplot": "gnuplot",
           "debian-handbook": "Debian", "debian-reference": "Debian", "man": ""}
# Most questions of one (source, kind), so no single table dominates the data.
CAP = {"defn": 700, "option": 700, "table": 180, "definition": 250, "default": 200, "faq": 100, "name": 230, "return": 50}
HELD_BACK_SHARE = 0.10
BOILERPLATE = re.compile(r"^(BACK TO BASICS|VOCABULARY|CULTURE|NOTE|TIP|CAUTION|IN PRACTICE|GOING FURTHER|"
                         r"SECURITY|QUICK LOOK|SPECIFIC CASE|COMMUNITY|DEBIAN POLICY|ALTERNATIVE|TOOL|HISTORY|"
                         r"BEWARE|DOCUMENTATION|POLICY|WARNING|Download)\b")


# First words of an option's description that are not a verb ("same as 'base64' program").
NOT_VERBS = {"same", "equivalent", "like", "synonym", "alias", "default", "an", "a", "the", "only", "one", "this",
             "if", "when", "with", "without", "for", "as", "in", "no", "not", "all", "each", "any", "deprecated", "obsolete"}


def worth_asking(rec):
    """Drops questions whose subject carries no meaning on its own ("what is 1?", "--help")."""
    t = rec["subject"].strip()
    return (len(t) >= 2 and any(c.isalnum() for c in t) and not t.replace(".", "").isdigit()
            and t not in ("--help", "--version", "-?", "-h", "-V"))


def held_back(path):
    return int(hashlib.sha256(("heldback:" + path).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELD_BACK_SHARE


def lc_first(s):
    """Lower-cases a sentence's first letter unless the first word is an acronym or a name."""
    w = s.split(" ", 1)[0]
    if len(w) > 1 and w[0].isupper() and w[1:].islower() and w.isalpha():
        return s[0].lower() + s[1:]
    return s


def strip_period(s):
    s = s.strip()
    return s[:-1] if s.endswith(".") else s


def third_person(word):
    w = word.lower()
    return len(w) > 3 and w.endswith("s") and not w.endswith("ss") and w not in ("this", "is", "has", "was", "its", "does")


def short_title(title):
    title = re.sub(r"\s*\(GNU Octave \(version [\d.]+\)\)$", "", title)
    return re.sub(r"^(Chapter \d+\.|Appendix [A-Z]\.|[\d.]+)\s+", "", title).strip()


def short_term(term):
    term = term.replace("¶", "").strip()
    term = re.sub(r"^[\w\[\], ]+ = (?=\w+ ?\()", "", term)   # Octave "x = f (a)" -> "f (a)"
    term = re.sub(r": .*$", "", term)                          # Octave "rotation: scalar, def. 0"
    term = re.sub(r"\s*\((integer|boolean|string|enum|floating point|real|text)\)$", "", term).strip()
    return term.strip(":").strip()


def man_name(title):
    m = re.match(r"^(.+)\((\w+)\)$", title)
    return (m.group(1), m.group(2)) if m else (title, "")


def build(f, rng):
    """(question, answer) for one fact, or None when its structure does not make a clear question."""
    kind, term, text, src, section = f["kind"], f["term"], f["text"], f["source"], f["section"]
    title = short_title(f["title"])
    product = PRODUCT.get(src, "")
    first = text
    if BOILERPLATE.match(text) or BOILERPLATE.match(term) or "Index" in section or "Index" in title:
        return None
    if kind == "option":
        name, _ = man_name(title)
        if term in ("--help", "--version") or len(term) > 40:
            return None
        forms = [t.strip() for t in re.split(r",\s*|\\", term) if t.strip().startswith("-")]
        if not forms:
            return None
        opt = forms[0]
        q = rng.choice([f"What does the {opt} option of {name} do?", f"In {name}, what is the {opt} option for?",
                        f"What happens when {name} is run with {opt}?", f"What does {name} {opt} do?"])
        also = f" ({', '.join(forms[1:])})" if len(forms) > 1 else ""
        d = strip_period(text)
        w0 = d.split(" ", 1)[0]
        if third_person(w0):
            a = f"In {name}, {opt}{also} {lc_first(d)}."
        elif w0.lower() not in NOT_VERBS and (w0.islower() or (w0[:1].isupper() and w0[1:].islower() and not w0.endswith("ed"))):
            a = f"With {opt}{also}, {name} will {lc_first(d)}."
        else:
            a = f"In {name}, {opt}{also} means: {d}."
        return q, a, opt
    if kind == "name":
        name, sec = man_name(title)
        m = re.match(r"^(.+?)\s+[-—–]+\s+(.+)$", text)
        if not m:
            return None
        desc = strip_period(m.group(2))
        if sec in ("1", "8"):
            q = rng.choice([f"What does the {name} command do?", f"What is {name} used for?", f"What is the purpose of the {name} program?"])
        elif sec in ("2", "3"):
            q = rng.choice([f"What does {name}() do?", f"What is the {name}() function for?", f"What is {name}() used for?"])
        else:
            q = rng.choice([f"What does the {name}({sec}) manual page describe?", f"What is {name} according to its manual page?"])
        return q, f"{name} is described as: {desc}.", name
    if kind == "return":
        return f"What does {term}() return?", text, term
    t = short_term(term)
    if not t or len(t) > 50:
        return None
    where = f" in {product}" if product else ""
    if kind in ("defn", "table"):
        if len(text.split()) < 5:
            return None
        d = strip_period(first)
        w0 = d.split(" ", 1)[0]
        if src == "postgresql" and title.startswith("20.") or "runtime-config" in f["file"]:
            q = rng.choice([f"What does the {t} setting do in PostgreSQL?", f"What is the PostgreSQL configuration parameter {t} for?"])
        elif t.startswith("-"):
            q = rng.choice([f"What does the {t} option of {title} do?", f"In {title}, what is {t} for?"])
        elif src in ("octave", "sqlite", "gnuplot") and "(" in t:
            q = rng.choice([f"What does {t} do in {product}?", f"What is {t} for in {product}?"])
        else:
            ctx = title if len(title) < 60 else section
            q = rng.choice([f"In {product} ({ctx}), what is {t}?", f"What does {t} mean in {ctx}?", f"What is {t}{where}, according to {ctx}?"])
        if t.lower() in " ".join(d.split()[:6]).lower():
            a = f"{d}."
        elif third_person(w0):
            a = f"{t} {lc_first(d)}."
        elif w0 in ("The", "A", "An"):
            a = f"{t} is {lc_first(d)}."
        else:
            a = f"{t}: {d}."
        return q, a, t
    if kind == "default":
        q = rng.choice([f"What is the default value of {t}{where}?", f"What does {t} default to{where}?"])
        s = strip_period(text)
        if s.startswith(("The default", "This parameter defaults", "It defaults", "Default")):
            return q, f"For {t}, {lc_first(s)}.", t
        return q, s + ".", t
    if kind == "definition":
        subj = re.sub(r"^(The|A|An) ", "", t)
        if subj.split()[0] in ("If", "When", "In", "For", "Each", "All", "Both", "Some", "Most", "Many", "Any", "One", "Another",
                               "Every", "Other", "Its", "Their", "His", "Her", "Our", "Your", "My", "Using", "Note", "Also", "So",
                               "Now", "Here", "Then", "There", "Thus", "Hence", "Below", "Above", "Next", "First", "Second", "Last"):
            return None
        return rng.choice([f"What is {subj}{where}?", f"What is meant by {subj}{where}?", f"How is {subj} described{where}?"]), text, subj
    if kind == "faq":
        if len(text.split()) < 8:
            return None
        return term, text, term
    return None


def main():
    args = sys.argv[1:]
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 15
    per_fact = int(args[args.index("--per-fact") + 1]) if "--per-fact" in args else 3
    facts_path, out_path, held_path = args[0], args[1], args[2]
    rng = random.Random(seed)
    facts = [json.loads(l) for l in open(facts_path, encoding="utf-8")]
    by_group = defaultdict(list)
    for f in facts:
        by_group[(f["source"], f["kind"])].append(f)
    out, seen = [], set()
    for (src, kind) in sorted(by_group):
        group = by_group[(src, kind)]
        rng.shuffle(group)
        n = 0
        for f in group:
            if n >= CAP.get(kind, 100):
                break
            asked = 0
            for _ in range(per_fact * 3):   # up to per_fact differently worded questions about the fact
                qa = build(f, rng)
                if not qa:
                    break
                q, a, subject = qa
                if q in seen or len(a.split()) > 60:
                    continue
                seen.add(q)
                asked += 1
                out.append({"question": q, "file": f["file"], "kind": kind, "term": f["term"], "evidence": f["text"],
                            "answer": a, "subject": subject, "heldback": held_back(f["file"])})
                if asked == per_fact:
                    break
            n += asked > 0
    rng.shuffle(out)
    out = [q for q in out if worth_asking(q)]   # after the draws, so the same seed words the rest the same
    with open(out_path, "w", encoding="utf-8") as w:
        for i, q in enumerate(out):
            w.write(json.dumps({"id": f"t{i:05d}", **q}, ensure_ascii=False) + "\n")
    files = sorted({f["file"] for f in facts if held_back(f["file"])})
    with open(held_path, "w", encoding="utf-8") as w:
        w.write("".join(p + "\n" for p in files))
    print(f"{len(out)} questions ({sum(q['heldback'] for q in out)} about held-back documents); "
          f"{len(files)} documents held back", file=sys.stderr)


if __name__ == "__main__":
    main()
