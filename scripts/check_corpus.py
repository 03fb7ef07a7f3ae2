#!/usr/bin/env python3
"""Developer check of the sample corpus (not used by rag at run time).

Verifies corpus/questions.jsonl against the documents in corpus/:
  - every line is a JSON object with the expected fields and types, ids unique;
  - every `relevant` path exists; PDF questions carry a 1-based `page` within the document;
  - the reference `answer` occurs (case-insensitively, after normalising whitespace, dashes and
    line-end hyphenation) in at least one relevant document, and for a PDF on the stated page,
    with PDF text extracted per page by `pdftotext` (no -layout);
  - unanswerable questions have answer null and no relevant files;
and checks the documents: word counts (CJK characters / 2 for Chinese), PDF page counts, and
that PDF text has no ligature glyphs or soft hyphens. Prints a summary; exits 1 on any error.
"""
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
QUESTIONS = CORPUS / "questions.jsonl"
DOC_SUFFIXES = {".md", ".txt", ".pdf"}
MIN_WORDS, MAX_WORDS = 300, 1200
MIN_PDF_PAGES = 3
LIGATURES = re.compile("[\ufb00-\ufb06\u00ad]")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

errors: list[str] = []


def error(message: str) -> None:
    errors.append(message)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[\u2010\u2011\u2012\u2013\u2014\u2212]", "-", text)  # dashes and minus -> '-'
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(\w)-\s*\n\s*(\w)", r"\1\2", text)  # words hyphenated at a line end
    text = re.sub(r"\s+", " ", text)
    return text.lower().strip()


def pdf_pages(path: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    pages = []
    for page in range(1, count + 1):
        out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"],
                             capture_output=True, text=True, check=True).stdout
        pages.append(out)
    return pages


def word_count(text: str) -> int:
    cjk = len(CJK.findall(text))
    return len(CJK.sub(" ", text).split()) + cjk // 2


def load_documents() -> dict[str, dict]:
    docs = {}
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix not in DOC_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(CORPUS).as_posix()
        if path.suffix == ".pdf":
            pages = pdf_pages(path)
            text = "\n".join(pages)
            for number, page in enumerate(pages, 1):
                if LIGATURES.search(page):
                    error(f"{rel} page {number}: ligature or soft hyphen in extracted text")
            if len(pages) < MIN_PDF_PAGES:
                error(f"{rel}: {len(pages)} pages, want at least {MIN_PDF_PAGES}")
        else:
            text = path.read_text(encoding="utf-8")
            pages = None
        lang = "zh" if len(CJK.findall(text)) > 100 else "en"
        words = word_count(text)
        if rel != "README.md" and not MIN_WORDS <= words <= MAX_WORDS:
            error(f"{rel}: {words} words, want {MIN_WORDS}-{MAX_WORDS}")
        docs[rel] = {"text": normalise(text), "pages": [normalise(p) for p in pages] if pages else None,
                     "format": path.suffix[1:], "lang": lang, "words": words}
    return docs


def check_questions(docs: dict[str, dict]) -> list[dict]:
    questions = []
    seen = set()
    for line_number, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        where = f"questions.jsonl line {line_number}"
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError as e:
            error(f"{where}: invalid JSON: {e}")
            continue
        expected = {"id", "question", "answer", "relevant", "page", "lang", "answerable"}
        if set(q) != expected:
            error(f"{where}: fields {sorted(q)}, want {sorted(expected)}")
            continue
        where = f"{where} ({q['id']})"
        if q["id"] in seen:
            error(f"{where}: duplicate id")
        seen.add(q["id"])
        if q["lang"] not in ("en", "zh"):
            error(f"{where}: lang must be en or zh")
        if q["lang"] == "zh" and not CJK.search(q["question"]):
            error(f"{where}: zh question without Chinese characters")
        questions.append(q)
        if not q["answerable"]:
            if q["answer"] is not None or q["relevant"] or q["page"] is not None:
                error(f"{where}: unanswerable question must have answer null, relevant [] and page null")
            continue
        if not isinstance(q["answer"], str) or not q["answer"].strip() or not q["relevant"]:
            error(f"{where}: answerable question needs an answer string and relevant files")
            continue
        if q["lang"] == "zh" and not CJK.search(q["answer"]):
            error(f"{where}: zh answer without Chinese characters")
        answer = normalise(q["answer"])
        found = False
        for rel in q["relevant"]:
            doc = docs.get(rel)
            if doc is None:
                error(f"{where}: relevant file {rel} not found in corpus/")
                continue
            if doc["pages"] is not None:
                page = q["page"]
                if not isinstance(page, int) or not 1 <= page <= len(doc["pages"]):
                    error(f"{where}: PDF {rel} needs a page in 1..{len(doc['pages'])}, got {page}")
                    continue
                found = found or answer in doc["pages"][page - 1]
            else:
                found = found or answer in doc["text"]
        if not any(docs.get(r, {}).get("pages") for r in q["relevant"]) and q["page"] is not None:
            error(f"{where}: page given but no relevant file is a PDF")
        if not found:
            error(f"{where}: answer {q['answer']!r} not found in {q['relevant']} (page {q['page']})")
    return questions


DEFINITION = re.compile(r"\b(called|stand for|name for|what is the name|what kind|what sort|which kind)\b|叫什么|什么指标|什么方式|什么问题|什么办法")


def question_kind(q: dict) -> str:
    """numeric: the answer holds a number; definition: asks for a term; lookup: the rest."""
    if re.search(r"\d", q["answer"]):
        return "numeric"
    if DEFINITION.search(q["question"].lower()):
        return "definition"
    return "lookup"


def summary(docs: dict[str, dict], questions: list[dict]) -> None:
    formats = Counter((d["format"], d["lang"]) for d in docs.values())
    print(f"documents: {len(docs)}")
    for (fmt, lang), n in sorted(formats.items()):
        print(f"  {fmt:4} {lang}: {n}")
    print("PDF pages:")
    for rel, d in docs.items():
        if d["pages"] is not None:
            print(f"  {rel}: {len(d['pages'])} pages, {d['words']} words")
    words = [d["words"] for r, d in docs.items() if r != "README.md"]
    print(f"words per document: min {min(words)}, max {max(words)}")

    answerable = [q for q in questions if q["answerable"]]
    pdf_only = [q for q in answerable if q["page"] is not None]
    by_lang = Counter(q["lang"] for q in questions)
    print(f"questions: {len(questions)}")
    print(f"  answerable: {len(answerable)}, unanswerable: {len(questions) - len(answerable)}")
    print(f"  by language: " + ", ".join(f"{k} {v}" for k, v in sorted(by_lang.items())))
    print(f"  zh answerable: {sum(q['lang'] == 'zh' for q in answerable)}")
    print(f"  answered from a PDF page: {len(pdf_only)}")
    # A PDF question is only a true test of page citation if no other document holds the answer.
    elsewhere = [q["id"] for q in pdf_only
                 if any(normalise(q["answer"]) in d["text"] for r, d in docs.items() if r not in q["relevant"])]
    print(f"  PDF answers also found verbatim in another document: {len(elsewhere)} {elsewhere}")
    by_format = Counter(docs[q["relevant"][0]]["format"] for q in answerable if q["relevant"][0] in docs)
    print("  answerable by format of first relevant file: "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_format.items())))
    other_page = [q["id"] for q in pdf_only
                  if sum(normalise(q["answer"]) in p for p in docs[q["relevant"][0]]["pages"]) > 1]
    print(f"  PDF answers found on more than one page of their PDF: {len(other_page)} {other_page}")
    kinds = Counter(question_kind(q) for q in answerable)
    print("  answerable by kind (heuristic): " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    uncovered = sorted(set(docs) - {r for q in answerable for r in q["relevant"]})
    print(f"  documents without a question: {uncovered}")


def main() -> int:
    docs = load_documents()
    questions = check_questions(docs)
    summary(docs, questions)
    if errors:
        print(f"\n{len(errors)} error(s):")
        for e in errors:
            print(f"  {e}")
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
