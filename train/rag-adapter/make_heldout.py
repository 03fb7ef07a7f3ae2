#!/usr/bin/env python3
"""The held-out folder: the Debian FAQ (package debian-faq, never used for training) as Markdown.

    make_heldout.py OUT_DIR

Writes OUT_DIR/<chapter>.md for every /usr/share/doc/debian/FAQ/*.en.html, with the same
converter as the training documents; heldout/debian-faq-questions.jsonl asks about these files.
"""
import os, re, sys
from docs_to_markdown import HTMLToMarkdown, clean

FAQ = "/usr/share/doc/debian/FAQ"


def main():
    out = sys.argv[1]
    if not os.path.isdir(FAQ):
        sys.exit(f"{FAQ}: missing (apt-get install debian-faq)")
    os.makedirs(out, exist_ok=True)
    for name in sorted(os.listdir(FAQ)):
        if not name.endswith(".en.html") or name == "index.en.html":
            continue
        p = HTMLToMarkdown()
        with open(os.path.join(FAQ, name), encoding="utf-8", errors="replace") as f:
            p.feed(f.read())
        md = p.markdown()
        if not md.startswith("#"):
            md = f"# {clean(p.title)}\n\n{md}"
        with open(os.path.join(out, re.sub(r"\.en\.html$", ".md", name)), "w", encoding="utf-8") as f:
            f.write(md)


if __name__ == "__main__":
    main()
