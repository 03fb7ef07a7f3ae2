#!/usr/bin/env python3
"""Converts installed Debian documentation into Markdown files for `rag ingest`, and records the
facts their structure states (definition lists, option tables, man-page NAME / OPTIONS / RETURN
VALUE sections, FAQ headings, "X is a ..." definitions, "The default is ..." sentences).

    docs_to_markdown.py OUT_DIR FACTS.jsonl

Writes OUT_DIR/<source>/<name>.md and one JSON object per fact:
    {"file": "<source>/<name>.md", "source", "title", "section", "kind", "term", "text"}
`text` is the sentence(s) of the document that state the fact, as they appear in the Markdown.
Python 3 standard library only; the selection of files is fixed (sorted names, a stable hash), so
the same packages give the same output.
"""
import gzip, hashlib, html, json, os, re, sys
from html.parser import HTMLParser

# (source name, folder, file pattern, share of files kept); the shares keep the base near 3,500 chunks,
# which `rag ingest` embeds in about ten minutes on two busy cores.
HTML_SOURCES = [
    ("debian-handbook", "/usr/share/doc/debian-handbook/html/en-US", r".*\.html$", 0.4),
    ("debian-reference", "/usr/share/debian-reference", r".*\.en\.html$", 0.4),
    ("sqlite", "/usr/share/doc/sqlite3", r"^(lang_|pragma|cli|datatype3|fts5|json1|foreignkeys|wal|autoinc|"
                                         r"lockingv3|queryplanner|optoverview|datatypes|limits|rtree|windowfunctions|"
                                         r"lang\.|quirks|isolation|howtocorrupt|tempfiles|uri|whentouse|withoutrowid|"
                                         r"geopoly|gencol|rowvalue|partialindex|expridx|stricttables).*\.html$", 0.4),
    ("postgresql", "/usr/share/doc/postgresql-doc-15/html", r"^(runtime-config|app-|sql-|functions-|datatype-|"
                                                            r"indexes-|ddl-|mvcc|wal-|backup|tutorial).*\.html$", 0.2),
    ("octave", "/usr/share/doc/octave/octave.html", r".*\.html$", 0.12),
    ("gnuplot", "/usr/share/doc/gnuplot/htmldocs", r"^node\d+\.html$", 0.25),
]
# Man pages: sections of the `manpages` package, and user commands of a fixed list of packages.
MAN_PACKAGES = ["manpages", "coreutils", "grep", "sed", "tar", "findutils", "gzip", "diffutils", "util-linux",
                "procps", "sqlite3", "apt", "dpkg"]
MAN_SHARE = 0.25

SKIP_CLASSES = re.compile(r"\b(navheader|navfooter|toc|navigation|footer|header|breadcrumb|menu|nav-panel|"
                          r"docnav|navbar|index-entry|footnotes)\b")


def kept(name, share):
    """A stable pseudo-random choice of `share` of the files, independent of the machine."""
    if share >= 1:
        return True
    h = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def clean(text):
    text = html.unescape(text).replace("\u00a0", " ").replace("\u200b", "")
    return re.sub(r"\s+", " ", text).strip()


SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]\"'`])[.!?](?=\s+[A-Z(`\"])")


def sentences(text, n):
    """The first n sentences of a paragraph."""
    parts, start = [], 0
    for m in SENTENCE_END.finditer(text):
        if text[max(0, m.start() - 4):m.start() + 1].lower() in ("e.g.", "i.e.") or text[m.start() - 3:m.start() + 1] in ("etc.", " vs."):
            continue
        parts.append(text[start:m.end()].strip())
        start = m.end()
        if len(parts) == n:
            return " ".join(parts)
    rest = text[start:].strip()
    if rest:
        parts.append(rest)
    return " ".join(parts[:n])


class HTMLToMarkdown(HTMLParser):
    """Block-level HTML to Markdown: headings, paragraphs, lists, definition lists, tables, code."""

    BLOCKS = {"p", "div", "li", "dt", "dd", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
              "table", "ul", "ol", "dl", "section", "td", "th", "br", "caption"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []          # Markdown blocks
        self.buf = []          # text of the current block
        self.skip = 0          # depth inside skipped elements
        self.skip_stack = []   # tags that opened a skip
        self.pre = 0
        self.cells = None      # cells of the current table row
        self.dt = None         # last definition term
        self.dd_text = []      # paragraphs of the current <dd>
        self.in_dd = 0
        self.title = ""
        self.section = ""
        self.heading = None
        self.in_title = False
        self.facts = []        # (kind, term, text, section)
        self.pending_faq = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self.skip:
            if tag not in ("br", "img", "hr", "meta", "link", "input"):
                self.skip_stack.append(tag)
                self.skip += 1
            return
        if tag in ("script", "style", "nav", "head") and tag != "head" or (a.get("class") and SKIP_CLASSES.search(a["class"] or "")):
            if tag not in ("br", "img", "hr"):
                self.skip_stack.append(tag)
                self.skip = 1
            return
        if tag == "title":
            self.in_title = True
            return
        if tag in self.BLOCKS:
            self.flush()
        if tag == "pre":
            self.pre += 1
        if tag == "tr":
            self.cells = []
        if tag in ("dd",):
            self.in_dd += 1
            self.dd_text = []

    def handle_endtag(self, tag):
        if self.skip:
            if self.skip_stack and self.skip_stack[-1] == tag:
                self.skip_stack.pop()
                self.skip -= 1
            elif tag in self.skip_stack:
                while self.skip_stack and self.skip_stack[-1] != tag:
                    self.skip_stack.pop(); self.skip -= 1
                if self.skip_stack:
                    self.skip_stack.pop(); self.skip -= 1
            return
        if tag == "title":
            self.in_title = False
            return
        if tag in ("td", "th") and self.cells is not None:
            self.cells.append(clean("".join(self.buf)))
            self.buf = []
            return
        if tag == "tr" and self.cells is not None:
            cells = [c for c in self.cells if c]
            if cells:
                self.out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
                if len(cells) == 2 and 1 <= len(cells[0].split()) <= 4 and len(cells[1].split()) >= 4:
                    self.facts.append(("table", cells[0], sentences(cells[1], 2), self.section))
            self.cells = None
            return
        if tag in self.BLOCKS:
            self.flush(tag)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "dd":
            self.in_dd = max(0, self.in_dd - 1)
            if self.dt and self.dd_text:
                self.facts.append(("defn", self.dt, sentences(self.dd_text[0], 2), self.section))
                for para in self.dd_text:
                    m = re.search(r"[^.]*\b(The default( value)? is|defaults to|Default:)[^.]*\.", para)
                    if m:
                        self.facts.append(("default", self.dt, clean(m.group(0)), self.section))
                        break
            self.dt = None

    def handle_data(self, data):
        if self.skip:
            return
        if self.in_title:
            self.title += data
            return
        self.buf.append(data)

    def flush(self, tag=None):
        raw = "".join(self.buf)
        self.buf = []
        if self.cells is not None and tag not in ("tr",):
            # text inside a table cell that is itself split by blocks: keep it in the cell
            if raw.strip():
                self.cells.append(clean(raw))
            return
        if self.pre and tag == "pre":
            code = html.unescape(raw).strip("\n")
            if code.strip():
                self.out.append("```\n" + code + "\n```")
            return
        text = clean(raw)
        if not text:
            return
        if tag and tag[0] == "h" and tag[1:].isdigit():
            level = min(int(tag[1:]) + 1, 6) if not self.out else int(tag[1:])
            text = re.sub(r"^(\d+(\.\d+)*\.?|[A-Z]\.\d+(\.\d+)*\.?|Chapter \d+\.|Appendix [A-Z]\.)\s+", "", text)
            self.out.append("#" * max(1, min(level, 6)) + " " + text)
            self.section = text
            self.pending_faq = text if text.endswith("?") else None
            return
        if tag == "dt":
            self.dt = text
            self.out.append("**" + text + "**")
            return
        if tag == "li":
            self.out.append("- " + text)
        else:
            self.out.append(text)
        if self.in_dd:
            self.dd_text.append(text)
        if self.pending_faq and len(text.split()) >= 6:
            self.facts.append(("faq", self.pending_faq, sentences(text, 2), self.section))
            self.pending_faq = None
        if tag in ("p", "div", "dd") and not self.in_dd:
            self.definitions(text)

    DEFINITION = re.compile(r"^((?:The |An? )?[A-Za-z][\w.+-]*(?: [\w.+-]+){0,3}) (is|are) (an?|the|one of) ([^.;:]{12,200})\.")

    def definitions(self, text):
        first = sentences(text, 1)
        m = self.DEFINITION.match(first)
        if not m:
            return
        subject = m.group(1)
        if subject.split()[0] in ("This", "These", "It", "That", "There", "Here", "Which", "What", "Such") or \
                subject.lower().split()[-1] in ("this", "it", "that", "there", "which", "one", "result", "following"):
            return
        self.facts.append(("definition", subject, first, self.section))

    def markdown(self):
        self.flush()
        return "\n\n".join(self.out) + "\n"


# ---------------------------------------------------------------- man pages

ESCAPES = [(r"\(em", "—"), (r"\(en", "–"), (r"\(aq", "'"), (r"\(dq", '"'), (r"\(lq", '"'), (r"\(rq", '"'),
           (r"\(oq", "'"), (r"\(cq", "'"), (r"\(bu", "•"), (r"\(co", "©"), (r"\(ga", "`"), (r"\(ti", "~"),
           (r"\(ha", "^"), (r"\(rs", "\\"), (r"\(mu", "×"), (r"\(<=", "<="), (r"\(>=", ">="), (r"\(->", "->"),
           (r"\-", "-"), (r"\&", ""), (r"\e", "\\"), (r"\ ", " "), (r"\~", " "), (r"\|", ""), (r"\^", ""),
           (r"\:", ""), (r"\%", ""), (r"\,", ""), (r"\/", ""), (r"\c", "")]


def roff_inline(s):
    s = re.sub(r"\\f[BIRPC]|\\f\(..|\\f\[[A-Z]*\]", "", s)
    s = re.sub(r"\\\*\[[^\]]*\]|\\\*\(..|\\\*.", "", s)
    s = re.sub(r"\\s[+-]?\d", "", s)
    s = re.sub(r"\\\[[a-z]{2}\]", "", s)
    for a, b in ESCAPES:
        s = s.replace(a, b)
    return s


def roff_args(rest):
    out, cur, q = [], "", False
    for ch in rest:
        if ch == '"':
            q = not q
        elif ch == " " and not q:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return out


def man_to_markdown(text, name):
    """A man(7) page to Markdown, with its NAME, OPTIONS and RETURN VALUE facts. mdoc pages: None."""
    if re.search(r"^\.(Dd|Nm)\b", text, re.M):
        return None
    out, para, facts = [], [], []
    section, tp_term, tp_next, nofill = "", None, False, False
    entries = []  # (section, term, description paragraphs)

    def flush():
        nonlocal para
        if para:
            t = re.sub(r"\s+", " ", " ".join(para)).strip() if not nofill else "\n".join(para)
            if t:
                if tp_term is not None and entries and entries[-1][1] == tp_term:
                    entries[-1][2].append(t)
                out.append(t)
            para = []

    for line in text.split("\n"):
        if line.startswith(".\\\"") or line.startswith("'\\\"") or line.startswith('.\\"'):
            continue
        if line.startswith(".") or line.startswith("'"):
            parts = line[1:].split(None, 1)
            if not parts:
                continue
            mac, rest = parts[0], (parts[1] if len(parts) > 1 else "")
            args = roff_args(rest)
            if mac in ("SH", "SS"):
                flush()
                section = roff_inline(" ".join(args)).strip()
                out.append(("## " if mac == "SH" else "### ") + (section.upper() if mac == "SH" else section))
                tp_term = None
            elif mac in ("PP", "LP", "P", "IP", "TP", "HP", "sp", "br", "RS", "RE", "in", "TQ"):
                flush()
                if mac == "TP":
                    tp_next = True
                    tp_term = None
                elif mac == "IP" and args:
                    tp_term = None
                    para.append(roff_inline(args[0]))
                elif mac in ("PP", "LP", "P"):
                    tp_term = None
            elif mac in ("B", "I", "SM", "SB"):
                para.append(roff_inline(" ".join(args)))
            elif mac in ("BR", "BI", "IR", "IB", "RB", "RI"):
                para.append(roff_inline("".join(args)))
            elif mac == "nf" or mac == "EX":
                flush(); nofill = True
            elif mac == "fi" or mac == "EE":
                flush(); nofill = False
            elif mac == "so":
                return None
            # other requests (TH, ad, na, hy, ne, ...) carry no text
            if tp_next and mac in ("B", "I", "BR", "BI", "IR", "IB", "RB", "RI") and para:
                tp_term = para[-1].strip()
                flush_term = "**" + tp_term + "**"
                para = []
                out.append(flush_term)
                entries.append((section, tp_term, []))
                tp_next = False
            continue
        if tp_next:
            tp_term = roff_inline(line).strip()
            out.append("**" + tp_term + "**")
            entries.append((section, tp_term, []))
            tp_next = False
            continue
        para.append(roff_inline(line))
    flush()
    md = "\n\n".join(b for b in out if b.strip()) + "\n"
    # facts
    body = md.split("\n\n")
    for i, block in enumerate(body):
        if block.strip() == "## NAME" and i + 1 < len(body):
            line = body[i + 1]
            m = re.match(r"^(.+?)\s+[-—–]+\s+(.+)$", line)
            if m:
                facts.append(("name", m.group(1).strip(), line.strip(), "NAME"))
        if block.strip() == "## RETURN VALUE" and i + 1 < len(body) and len(body[i + 1].split()) >= 5:
            facts.append(("return", name, sentences(body[i + 1], 1), "RETURN VALUE"))
    for sec, term, desc in entries:
        if desc and term.startswith("-") and len(term) <= 60 and len(desc[0].split()) >= 3:
            facts.append(("option", term, sentences(desc[0], 2), sec))
    return md, facts


def man_files():
    import subprocess
    files = set()
    for pkg in MAN_PACKAGES:
        try:
            listing = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True).stdout
        except (subprocess.CalledProcessError, FileNotFoundError):
            print(f"warning: package {pkg} not installed; its man pages are skipped", file=sys.stderr)
            continue
        for p in listing.split("\n"):
            if re.match(r"^/usr/share/man/man[1-8]/[^/]+\.[1-8][a-z]*\.gz$", p) and os.path.isfile(p) and not os.path.islink(p):
                files.add(p)
    return sorted(files)


def write(out_dir, rel, md, facts, title, source, facts_out):
    path = os.path.join(out_dir, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(md)
    for kind, term, text, section in facts:
        text = text.strip()
        if not term or not text or len(text.split()) < 4 or len(text.split()) > 70:
            continue
        facts_out.write(json.dumps({"file": rel, "source": source, "title": title, "section": section,
                                    "kind": kind, "term": term.strip(), "text": text}, ensure_ascii=False) + "\n")


def main():
    out_dir, facts_path = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.dirname(os.path.abspath(facts_path)), exist_ok=True)
    counts = {}
    with open(facts_path, "w", encoding="utf-8") as facts_out:
        for source, folder, pattern, share in HTML_SOURCES:
            if not os.path.isdir(folder):
                sys.exit(f"{folder}: missing (install the Debian package that provides {source})")
            for name in sorted(os.listdir(folder)):
                if not re.match(pattern, name) or not kept(name, share):
                    continue
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    raw = f.read()
                p = HTMLToMarkdown()
                p.feed(raw)
                md = p.markdown()
                if len(md) < 400:
                    continue
                title = clean(p.title)
                stem = re.sub(r"(\.en)?\.html$", "", name)
                rel = f"{source}/{stem}.md"
                if not md.startswith("#"):
                    md = f"# {title}\n\n{md}"
                write(out_dir, rel, md, p.facts, title, source, facts_out)
                counts[source] = counts.get(source, 0) + 1
        for path in man_files():
            base = os.path.basename(path)[:-3]
            if not kept(base, MAN_SHARE):
                continue
            with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
                text = f.read()
            name = base.rsplit(".", 1)[0]
            result = man_to_markdown(text, name)
            if result is None:
                continue
            md, facts = result
            if len(md) < 400:
                continue
            rel = f"man/{base}.md"
            write(out_dir, rel, f"# {name}({base.rsplit('.', 1)[1]})\n\n" + md, facts, f"{name}({base.rsplit('.', 1)[1]})", "man", facts_out)
            counts["man"] = counts.get("man", 0) + 1
    for s, n in counts.items():
        print(f"{s}: {n} documents", file=sys.stderr)


if __name__ == "__main__":
    main()
