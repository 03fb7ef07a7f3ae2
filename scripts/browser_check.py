#!/usr/bin/env python3
"""Uses the rag web page as a person would, in headless Chromium driven by Selenium, against a
running rag-server (Tests/ServerTests/BrowserTests.swift starts one on the sample corpus and runs
this script; it can also be run by hand against any server).

    python3 scripts/browser_check.py --url http://127.0.0.1:8080/ --out shots/            # the page
    python3 scripts/browser_check.py --url http://127.0.0.1:8081/ --out shots/ --api-key KEY  # the key

Without --api-key it checks: the page loads with no console errors; a question's answer streams in
and its sources show file, page and section; a cited [n] opens its passage and the passage's
document is served; a follow-up keeps the first turn on screen and finds its source through the
conversation; Stop ends a generation mid-way; no element lies outside its card at 1280x800 and at
a phone's width; an uploaded file is listed and found by a question; deleting it removes it.
With --api-key (a server started with that key) it checks that the page asks for the key, refuses
a wrong one, and works with the right one. With --rank FILE (a server started with --prefs FILE,
two questions: three answers, then two) it ranks both on /rank by clicking the answers best first
and checks the rankings reach FILE. A screenshot of each step goes to --out.

Exit status: 0 when every check passed, 1 when one failed, 77 when Chromium cannot run here.
"""
import argparse
import json
import os
import shutil
import sys
import time

try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError as e:  # test.sh installs it; by hand: pip install selenium
    print(f"selenium is not installed ({e}); pip install selenium", file=sys.stderr)
    sys.exit(77)

DESKTOP = (1280, 800)
PHONE = (390, 844)


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)
    print(f"ok: {message}", flush=True)


def find_binary(names):
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


def start_browser():
    chromium = find_binary(["chromium", "chromium-browser", "google-chrome"])
    driver_path = find_binary(["chromedriver"]) or "/usr/lib/chromium/chromedriver"
    if not chromium or not os.path.exists(driver_path):
        print("chromium or chromedriver is missing (apt-get install chromium chromium-driver)", file=sys.stderr)
        sys.exit(77)
    options = Options()
    options.binary_location = chromium
    # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                f"--window-size={DESKTOP[0]},{DESKTOP[1]}", "--lang=en-US"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except WebDriverException as e:
        print(f"chromium cannot run here: {e.msg}", file=sys.stderr)
        sys.exit(77)
    set_viewport(driver, DESKTOP)
    return driver


def set_viewport(driver, size, mobile=False):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": mobile})


def wait_for(what, condition, timeout=120.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")


class Page:
    def __init__(self, driver, url, out):
        self.driver, self.url, self.out = driver, url, out
        self.shots = 0

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def fetch(self, path):
        """GET path from inside the page, with the page's key: status, content type and the first bytes."""
        return self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            fetch(arguments[0], { headers: headers() }).then(async (r) => {
              const text = await r.text();
              done({ status: r.status, type: r.headers.get("content-type") || "", head: text.slice(0, 200) });
            }, (e) => done({ status: 0, type: "", head: String(e) }));""", path)

    def shot(self, name):
        self.shots += 1
        path = os.path.join(self.out, f"{self.shots:02d}-{name}.png")
        self.driver.save_screenshot(path)
        print(f"screenshot: {path}", flush=True)

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def ready(self):
        wait_for("the page to report ready", lambda: self.js("return $('status').textContent") == "ready", timeout=30)

    def doc_rows(self):
        return self.js("return [...document.querySelectorAll('#docs tr[data-id]')].map(r => ({id: r.dataset.id, path: r.dataset.path}))")

    def ask(self, question):
        """Types the question, presses Ask; returns the new turn's id."""
        count = self.js("return document.querySelectorAll('#turns .turn').length")
        box = self.driver.find_element(By.ID, "question")
        box.clear()
        box.send_keys(question)
        self.driver.find_element(By.ID, "ask").click()
        return wait_for("the new turn", lambda: self.js(
            "const t = document.querySelectorAll('#turns .turn'); return t.length > arguments[0] ? t[t.length - 1].id : null", count),
            timeout=10)

    def turn(self, turn_id):
        return self.js("""
            const t = document.getElementById(arguments[0]);
            return { state: t.dataset.state, pieces: Number(t.dataset.pieces), answer: t.querySelector('.a').textContent,
                     cites: [...t.querySelectorAll('.a a.cite')].map(a => a.getAttribute('href')),
                     sources: [...t.querySelectorAll('ol.sources li')].map(li => ({
                        id: li.id, file: li.dataset.file, page: li.dataset.page || null, section: li.dataset.section || null,
                        label: li.querySelector('summary').textContent,
                        open: li.querySelector('a.open') ? li.querySelector('a.open').getAttribute('href') : null })) };""", turn_id)

    def answer_streamed(self, turn_id, timeout=180):
        """Waits for the answer, watching it grow; returns the finished turn and the partial texts seen."""
        partial = set()

        def finished():
            t = self.turn(turn_id)
            if t["state"] == "streaming" and t["answer"]:
                partial.add(t["answer"])
            return t if t["state"] != "streaming" else None
        t = wait_for(f"the answer of {turn_id}", finished, timeout=timeout, interval=0.02)
        return t, partial

    def outside_cards(self):
        """Every visible element that extends past the left or right edge of its card (.card)."""
        return self.js("""
            const bad = [];
            for (const card of document.querySelectorAll('.card')) {
              const c = card.getBoundingClientRect();
              for (const el of card.querySelectorAll('*')) {
                // (the closed <details>' passages are laid out but not shown: checkVisibility says so)
                if (el.checkVisibility && !el.checkVisibility()) continue;
                // Inside a scrolling box, only the box itself must stay in the card.
                let clipped = false;
                for (let p = el.parentElement; p && p !== card; p = p.parentElement) {
                  const st = getComputedStyle(p);
                  if (st.overflowX !== "visible" || st.overflowY !== "visible") { clipped = true; break; }
                }
                if (clipped) continue;
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) continue;
                if (r.left < c.left - 0.5 || r.right > c.right + 0.5 || r.top < c.top - 0.5 || r.bottom > c.bottom + 0.5)
                  bad.push(`${card.id} > ${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).replace(/ /g, '.') : ''} [${Math.round(r.left)}, ${Math.round(r.right)}] outside [${Math.round(c.left)}, ${Math.round(c.right)}]`);
              }
            }
            if (document.documentElement.scrollWidth > window.innerWidth + 0.5)
              bad.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`);
            return bad;""")


def check_layout(page, size, mobile, name):
    set_viewport(page.driver, size, mobile)
    time.sleep(0.3)  # one layout pass after the resize
    width = page.js("return window.innerWidth")
    check(width == size[0], f"the viewport is {size[0]} px wide ({width})")
    bad = page.outside_cards()
    page.shot(name)
    check(not bad, f"at {size[0]}x{size[1]} no element lies outside its card" + ("" if not bad else ": " + "; ".join(bad[:8])))


def run_page(page, upload_dir):
    d = page.driver
    d.get(page.url)
    page.ready()
    wait_for("the document list", lambda: len(page.doc_rows()) > 0, timeout=30)
    total = page.js("return $('page').textContent")
    page.shot("loaded")
    errors = page.console_errors()
    check(not errors, "the page loads with no console errors" + ("" if not errors else f": {errors}"))
    check("of" in total, f"the document list shows its size ({total})")

    # A question whose answer is on a PDF page: sources name the file and the page.
    t1 = page.ask("How many links does a node keep on layer 0 of an HNSW graph?")
    turn, partial = page.answer_streamed(t1)
    check(turn["state"] == "done", f"the answer finished ({turn['state']})")
    check(turn["pieces"] > 1 and len(partial) >= 1,
          f"the answer streamed in ({turn['pieces']} pieces, {len(partial)} partial texts seen before the end)")
    check(len(turn["answer"].strip()) > 0, f"the answer has text: {turn['answer'][:120]!r}")
    sources = turn["sources"]
    check(len(sources) > 0, f"sources appear ({len(sources)})")
    check(all(s["file"] and s["file"] in s["label"] for s in sources), "every source shows its file")
    paged = [s for s in sources if s["page"]]
    check(any(f"page {s['page']}" in s["label"] for s in paged), "a source shows its page: " +
          "; ".join(s["label"] for s in paged[:3]))
    check(any(s["file"] == "indexes/hnsw_parameters.pdf" for s in sources), "the HNSW notes are among the sources")
    page.shot("answer")

    # A cited [n] opens its passage; each passage links to its document, a PDF at its page.
    if turn["cites"]:
        target = turn["cites"][0]
        d.find_element(By.CSS_SELECTOR, f"#{t1} .a a.cite[href='{target}']").click()
        opened = page.js("return document.getElementById(arguments[0]).querySelector('details').open", target[1:])
        check(opened, f"clicking the citation {target} opens its passage")
    else:
        # The small model did not cite: a source's summary still opens the passage.
        d.find_element(By.CSS_SELECTOR, f"#{sources[0]['id']} summary").click()
        check(page.js("return document.getElementById(arguments[0]).querySelector('details').open", sources[0]["id"]),
              "clicking a source opens its passage (the answer cited none)")
    pdf = next(s for s in paged if s["open"])
    check(pdf["open"].endswith(f"#page={pdf['page']}"), f"a PDF passage links to its page ({pdf['open']})")
    served = page.fetch(pdf["open"].split("#")[0])
    check(served["status"] == 200 and served["type"].startswith("application/pdf") and served["head"].startswith("%PDF"),
          f"GET {pdf['open'].split('#')[0]} serves the original PDF ({served['status']}, {served['type']})")
    page.shot("passage")

    # A follow-up that names nothing: found through the conversation, the first turn still shown.
    t2 = page.ask("And how many does it keep on the layers above?")
    turn2, _ = page.answer_streamed(t2)
    check(turn2["state"] == "done", "the follow-up's answer finished")
    first_still = page.turn(t1)
    check(first_still["answer"] == turn["answer"], "the first turn stays on screen")
    check(page.js("return history.length") == 4, "the conversation (two questions, two answers) goes with the next question")
    check(any(s["file"] == "indexes/hnsw_parameters.pdf" for s in turn2["sources"]),
          "the follow-up retrieves the HNSW notes: " + "; ".join(s["label"] for s in turn2["sources"]))
    page.shot("follow-up")

    # Stop a generation mid-way.
    d.find_element(By.ID, "reset").click()
    t3 = page.ask("Explain in detail how LoRA adapters are trained, initialised and merged.")
    wait_for("the first words of the answer", lambda: page.turn(t3)["pieces"] >= 1 or page.turn(t3)["state"] != "streaming",
             timeout=120, interval=0.01)
    before = page.turn(t3)
    check(before["state"] == "streaming", "the generation is still running when Stop is pressed")
    d.find_element(By.ID, "stop").click()
    wait_for("the stopped state", lambda: page.turn(t3)["state"] == "stopped", timeout=10)
    stopped = page.turn(t3)["answer"]
    time.sleep(1.5)
    check(page.turn(t3)["answer"] == stopped, f"the answer stops growing ({len(stopped)} characters)")
    check(page.js("return !$('ask').disabled && $('stop').disabled"), "Ask is enabled again and Stop disabled")
    page.shot("stopped")

    # The layout, with a conversation and sources on screen.
    d.find_element(By.ID, "reset").click()
    t4 = page.ask("What is the default value of the constant k in reciprocal rank fusion?")
    turn4, _ = page.answer_streamed(t4)
    check(any(s["section"] and s["section"] in s["label"] for s in turn4["sources"]),
          "a Markdown source shows its section: " + "; ".join(s["label"] for s in turn4["sources"][:3]))
    d.find_element(By.CSS_SELECTOR, f"#{t4} ol.sources li summary").click()
    check_layout(page, DESKTOP, False, "layout-1280x800")
    check_layout(page, PHONE, True, "layout-phone")
    set_viewport(d, DESKTOP)

    # Upload a file: listed, searchable, openable; then delete it.
    name = "zebra_handshake.md"
    path = os.path.join(upload_dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("# The Zebra handshake\n\nThe Zebra handshake protocol sends exactly seven greeting frames before "
                "the first data frame. Its default port is 4711, and a peer that stays silent for nine seconds is dropped.\n")
    d.find_element(By.ID, "file").send_keys(path)
    d.find_element(By.ID, "uploadButton").click()
    wait_for("the upload to finish", lambda: page.js("return $('uploadStatus').textContent").startswith("added "), timeout=60)
    row = wait_for("the uploaded file in the list", lambda: next((r for r in page.doc_rows() if r["path"] == name), None), timeout=10)
    check(True, f"{name} is listed (id {row['id']})")
    page.shot("uploaded")
    served = page.fetch(f"/v1/documents/{row['id']}")
    check(served["status"] == 200 and "Zebra handshake" in served["head"], f"the uploaded file is served back ({served['type']})")
    d.find_element(By.ID, "reset").click()
    t5 = page.ask("How many greeting frames does the Zebra handshake send?")
    turn5, _ = page.answer_streamed(t5)
    check(any(s["file"] == name for s in turn5["sources"]),
          f"a question finds the uploaded file: " + "; ".join(s["label"] for s in turn5["sources"]))
    page.shot("uploaded-answer")
    d.find_element(By.CSS_SELECTOR, f"#docs tr[data-id='{row['id']}'] button").click()
    wait_for("the confirmation", lambda: _alert(d), timeout=5).accept()
    wait_for("the row to go", lambda: all(r["path"] != name for r in page.doc_rows()), timeout=30)
    paths = page.driver.execute_async_script("""const done = arguments[arguments.length - 1];
        fetch('/v1/documents?limit=1000', { headers: headers() }).then(r => r.json()).then(j => done(j.data.map(d => d.path)));""")
    check(name not in paths and len(paths) > 0, f"{name} is deleted ({len(paths)} documents left)")
    page.shot("deleted")
    errors = page.console_errors()
    check(not errors, "no console errors during the session" + ("" if not errors else f": {errors}"))


def _alert(driver):
    try:
        return driver.switch_to.alert
    except WebDriverException:
        return None


def run_key(page, key):
    d = page.driver
    d.get(page.url)
    page.ready()
    wait_for("the key request", lambda: page.js("return $('keyPanel').classList.contains('shown')"), timeout=10)
    check(page.js("return document.activeElement.id") == "keyEntry", "the page asks for the API key (the key field has the focus)")
    check(not page.doc_rows(), "no documents are shown without the key")
    errors = page.console_errors()
    check(not errors, "asking for the key makes no failed request" + ("" if not errors else f": {errors}"))
    page.shot("key-asked")

    entry = d.find_element(By.ID, "keyEntry")
    entry.send_keys("not-the-key")
    d.find_element(By.ID, "keySave").click()
    wait_for("the refusal", lambda: "refused" in page.js("return $('keyMessage').textContent")
             and page.js("return $('keyPanel').classList.contains('shown')"), timeout=10)
    check(True, "a wrong key is refused and asked for again")
    page.shot("key-refused")
    d.get_log("browser")  # the 401 of the wrong key is expected

    entry = d.find_element(By.ID, "keyEntry")
    entry.clear()
    entry.send_keys(key)
    d.find_element(By.ID, "keySave").click()
    wait_for("the document list", lambda: len(page.doc_rows()) > 0, timeout=30)
    check(not page.js("return $('keyPanel').classList.contains('shown')"), "with the right key the documents are listed")
    t = page.ask("What is the default value of the constant k in reciprocal rank fusion?")
    turn, _ = page.answer_streamed(t)
    check(turn["state"] == "done" and turn["sources"], f"with the key a question is answered with sources ({len(turn['sources'])})")
    d.get(page.url)
    page.ready()
    wait_for("the document list after a reload", lambda: len(page.doc_rows()) > 0, timeout=30)
    check(not page.js("return $('keyPanel').classList.contains('shown')"), "the key is remembered across a reload")
    page.shot("key-works")
    errors = page.console_errors()
    check(not errors, "no console errors with the right key" + ("" if not errors else f": {errors}"))


def run_rank(page, prefs_file):
    d = page.driver
    d.get(page.url)
    page.ready()
    wait_for("the main page's link to the ranking page", lambda: page.js("return !$('rankLink').hidden"), timeout=10)
    check(True, "the main page links to /rank when the server has a preferences file")
    d.get(page.url.rstrip("/") + "/rank")
    wait_for("the first question", lambda: page.js("return $('view').dataset.state") == "ready", timeout=30)
    check(page.js("return $('progress').textContent") == "0 of 2 ranked", "the page says where ranking stands")
    check(page.js("return $('question').textContent") == "What do beavers build?", "the first unranked question is shown")
    answers = d.find_elements(By.CSS_SELECTOR, "#answers .answer")
    check(len(answers) == 3, "its three answers are shown")
    check(page.js("return $('save').disabled"), "Save waits for a full ranking")
    answers[2].click()
    answers[0].click()   # two of three placed: the last one is decided
    places = page.js("return [...document.querySelectorAll('#answers .answer')].map(b => b.dataset.place || '')")
    check(places == ["2", "3", "1"], f"clicks place the answers best first ({places})")
    page.shot("rank-placed")
    check(not page.js("return $('save').disabled"), "Save is enabled once every answer has its place")
    d.find_element(By.ID, "save").click()
    wait_for("the second question", lambda: page.js("return $('question').textContent") == "Where do cormorants dive?", timeout=10)
    check(page.js("return $('progress').textContent") == "1 of 2 ranked", "the ranking is counted")
    with open(prefs_file, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    check(records[0].get("ranking") == [2, 0, 1], f"the ranking is in the file ({records[0].get('ranking')})")
    set_viewport(d, PHONE, mobile=True)
    time.sleep(0.3)
    bad = page.outside_cards()
    page.shot("rank-phone")
    check(not bad, "at a phone's width nothing lies outside its card" + ("" if not bad else ": " + "; ".join(bad[:8])))
    set_viewport(d, DESKTOP)
    d.find_elements(By.CSS_SELECTOR, "#answers .answer")[1].click()   # two answers: one click decides
    d.find_element(By.ID, "save").click()
    wait_for("the end of the list", lambda: page.js("return $('view').dataset.state") == "done", timeout=10)
    check("Every question is ranked" in page.js("return $('message').textContent"), "the page says when everything is ranked")
    with open(prefs_file, encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    check(records[1].get("ranking") == [1, 0], f"the second ranking is in the file ({records[1].get('ranking')})")
    page.shot("rank-done")
    errors = page.console_errors()
    check(not errors, "no console errors" + ("" if not errors else f": {errors[:3]}"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--out", required=True, help="folder for the screenshots")
    ap.add_argument("--api-key", help="the server's key: check the key flow instead of the page")
    ap.add_argument("--rank", help="the server's --prefs file: check the ranking page instead")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    driver = start_browser()
    page = Page(driver, args.url, args.out)
    try:
        if args.rank:
            run_rank(page, args.rank)
        elif args.api_key:
            run_key(page, args.api_key)
        else:
            run_page(page, args.out)
        print("all browser checks passed")
        return 0
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        try:
            page.shot("failure")
        except WebDriverException:
            pass
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
