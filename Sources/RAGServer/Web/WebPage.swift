/// The single page served at GET /: a conversation with the knowledge base (answers stream in,
/// earlier turns stay, each [n] links to its passage and the passage to its document), and the
/// document list with upload and delete. Inline CSS and JS only; an API key, when the server needs
/// one, is asked for and kept in localStorage. Tests/ServerTests/BrowserTests.swift drives it in
/// Chromium (scripts/browser_check.py); the `data-state` attributes are what that test waits on.
enum WebPage {
    static let html = WebStyle.head(title: "rag") + #"""
  header .status { color:var(--muted); font-size:13px; }
  header #rankLink { font-size:13px; }
  header .keybox { margin-left:auto; display:flex; gap:8px; align-items:center; min-width:0; flex:0 1 320px; }
  main { display:grid; grid-template-columns: minmax(0,2fr) minmax(0,1fr); gap:24px; padding:24px; max-width:1200px; margin:0 auto; }
  h2 { font-size:15px; margin:0 0 12px; }
  textarea, input[type=text], input[type=password] { width:100%; min-width:0; font:inherit; padding:8px 10px; border:1px solid var(--line); border-radius:6px; }
  input[type=file] { max-width:100%; min-width:0; flex:1 1 160px; font-size:13px; }
  textarea { min-height:64px; resize:vertical; display:block; }
  button { font:inherit; padding:7px 16px; border:0; border-radius:6px; background:var(--accent); color:#fff; cursor:pointer; }
  button.secondary { background:var(--soft); color:var(--fg); }
  button.small { padding:3px 10px; font-size:13px; }
  button:disabled { opacity:.5; cursor:default; }
  .row { display:flex; gap:10px; align-items:center; margin-top:10px; flex-wrap:wrap; }
  .row label { color:var(--muted); font-size:13px; }
  a { color:var(--accent); }
  #keyPanel { display:none; margin:16px 24px 0; padding:12px 16px; border:1px solid #f4c77b; background:#fffaeb; border-radius:10px; }
  #keyPanel.shown { display:block; }
  #keyPanel form { display:flex; gap:10px; flex-wrap:wrap; margin-top:8px; }
  #keyPanel input { flex:1 1 200px; width:auto; }
  /* The conversation: one block per turn, the newest last. */
  #turns { display:flex; flex-direction:column; gap:12px; margin-bottom:12px; }
  #turns:empty::before { content:"Ask a question about your documents; follow-up questions keep the conversation's context."; color:var(--muted); font-size:13px; }
  .turn { min-width:0; }
  .turn .q { font-weight:600; white-space:pre-wrap; overflow-wrap:anywhere; }
  .turn .a { white-space:pre-wrap; overflow-wrap:anywhere; margin-top:6px; padding:10px 12px; background:var(--bg); border-radius:6px; min-height:2.2em; }
  .turn .a a.cite { font-weight:600; text-decoration:none; }
  .turn .meta { margin-top:4px; }
  .turn[data-state=stopped] .meta::before { content:"stopped · "; color:#b54708; }
  ol.sources { margin:8px 0 0; padding:0; list-style:none; }
  ol.sources li { border-top:1px solid var(--line); padding:6px 0; min-width:0; overflow-wrap:anywhere; }
  ol.sources li:target, ol.sources li.flash { background:#eef4ff; }
  ol.sources summary { cursor:pointer; }
  ol.sources .where { color:var(--accent); }
  ol.sources blockquote { margin:6px 0; padding:8px 10px; background:var(--bg); border-left:3px solid var(--accent); white-space:pre-wrap; font-size:14px; overflow-wrap:anywhere; }
  /* The documents table: fixed columns, so long names wrap instead of pushing the buttons out. */
  table { width:100%; border-collapse:collapse; font-size:13px; table-layout:fixed; }
  td, th { text-align:left; padding:6px 4px; border-bottom:1px solid var(--line); vertical-align:top; }
  th.chunks, td.num { width:52px; text-align:right; color:var(--muted); }
  th.act, td.act { width:64px; text-align:right; }
  td.path { overflow-wrap:anywhere; }
  .doclist { max-height:60vh; overflow-y:auto; }
  #docs tr.flash { background:#eef4ff; }
  @media (max-width: 800px) {
    main { grid-template-columns:1fr; padding:12px; gap:12px; }
    header { padding:10px 12px; }
    header .keybox { flex:1 1 100%; margin-left:0; }
    .card { padding:12px; }
  }
</style>
</head>
<body>
<header>
  <h1>rag</h1><span class="status" id="status">checking…</span><a id="rankLink" href="/rank" hidden>rank answers</a>
  <div class="keybox"><input type="password" id="key" placeholder="API key (if the server needs one)" autocomplete="off"></div>
</header>
<div id="keyPanel" role="alert">
  <strong>This server needs an API key.</strong> <span class="muted" id="keyMessage">Enter it to ask questions and see the documents; the browser remembers it.</span>
  <form id="keyForm"><input type="password" id="keyEntry" placeholder="API key" autocomplete="off"><button type="submit" id="keySave">Use key</button></form>
</div>
<main>
  <section class="card" id="chat">
    <h2>Ask the knowledge base</h2>
    <div id="turns"></div>
    <textarea id="question" placeholder="Ask a question about your documents… (Ctrl+Enter asks)"></textarea>
    <div class="row">
      <button id="ask">Ask</button><button id="stop" class="secondary" disabled>Stop</button>
      <button id="reset" class="secondary">New conversation</button>
      <label><input type="checkbox" id="rag" checked> use documents</label>
      <label>passages <input type="number" id="k" value="5" min="1" max="20" style="width:56px"></label>
    </div>
  </section>
  <section class="card" id="documents">
    <h2>Documents</h2>
    <form id="upload" class="row"><input type="file" id="file" name="file"><button type="submit" id="uploadButton">Upload</button></form>
    <p class="muted" id="uploadStatus"></p>
    <div class="doclist"><table><thead><tr><th>path</th><th class="chunks">chunks</th><th class="act"></th></tr></thead><tbody id="docs"></tbody></table></div>
    <div class="row"><button class="secondary small" id="prev">‹ prev</button><span class="muted" id="page"></span><button class="secondary small" id="next">next ›</button></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const keyInput = $("key");
keyInput.value = localStorage.getItem("rag.key") || "";
let authRequired = false;

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (keyInput.value) h["Authorization"] = "Bearer " + keyInput.value;
  return h;
}
async function errorText(res) {
  try { const j = await res.json(); return (j.error && j.error.message) || res.statusText; } catch (_) { return res.status + " " + res.statusText; }
}
function escapeHTML(s) { return s.replace(/[&<>"]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c])); }

// --- the API key: asked for when /health says the server needs one and none is known (or it was refused)
function askForKey(message) {
  $("keyPanel").classList.add("shown");
  if (message) { $("keyMessage").textContent = message; $("keyMessage").className = "error"; }
  $("keyEntry").focus();
}
function setKey(value) {
  keyInput.value = value;
  localStorage.setItem("rag.key", value);
  $("keyPanel").classList.remove("shown");
  loadDocs();
}
keyInput.addEventListener("change", () => setKey(keyInput.value));
$("keyForm").addEventListener("submit", (e) => { e.preventDefault(); if ($("keyEntry").value) setKey($("keyEntry").value); });
function refused(res) {
  if (res.status !== 401) return false;
  askForKey(keyInput.value ? "The server refused this key; enter the right one." : "");
  return true;
}

async function checkHealth() {
  try {
    const r = await fetch("/health");
    const j = await r.json();
    authRequired = !!j.auth_required;
    $("rankLink").hidden = !j.preferences;   // the ranking page, when the server has a preferences file (--prefs)
    $("status").textContent = j.status === "ok" ? "ready" : j.status;
    if (j.status === "loading") { setTimeout(checkHealth, 1000); return false; }
    return true;
  } catch (_) { $("status").textContent = "offline"; return false; }
}

// --- the conversation: what was said, sent whole with each question (the server keeps what fits)
let history = [];
let controller = null;
let turnCount = 0;

function documentURL(p) {
  return p.document_id == null ? null : "/v1/documents/" + p.document_id + (p.page ? "#page=" + p.page : "");
}
// Opens a document: a plain link without a key; with one, fetched with the header and shown from a blob.
async function openDocument(e) {
  if (!keyInput.value) return;
  e.preventDefault();
  const url = e.currentTarget.getAttribute("href");
  const [path, fragment] = url.split("#");
  const win = window.open("", "_blank");
  const r = await fetch(path, { headers: headers() });
  if (!r.ok) { if (win) win.close(); if (!refused(r)) alert(await errorText(r)); return; }
  const blob = URL.createObjectURL(await r.blob());
  if (win) win.location = blob + (fragment ? "#" + fragment : "");
}

function renderAnswer(el, text, turnId) {
  // Each [n] becomes a link to passage n of this turn's sources.
  el.innerHTML = escapeHTML(text).replace(/\[(\d+)\]/g, (m, n) => `<a class="cite" href="#${turnId}-s${n}" data-n="${n}">[${n}]</a>`);
}
function renderSources(turn, list) {
  const ol = turn.querySelector("ol.sources");
  ol.innerHTML = "";
  for (const p of list || []) {
    const li = document.createElement("li");
    li.id = `${turn.id}-s${p.n}`;
    li.dataset.file = p.file;
    if (p.page) li.dataset.page = p.page;
    if (p.section) li.dataset.section = p.section;
    const where = [p.file, p.page ? "page " + p.page : "", p.section || ""].filter(Boolean).join(" · ");
    li.innerHTML = `<details><summary><span class="where">[${p.n}] ${escapeHTML(where)}</span> <span class="muted">score ${p.score.toFixed(3)}</span></summary><blockquote></blockquote></details>`;
    li.querySelector("blockquote").textContent = p.text;
    const url = documentURL(p);
    if (url) {
      const a = document.createElement("a");
      a.className = "open"; a.href = url; a.target = "_blank"; a.rel = "noopener";
      a.textContent = p.page ? `open ${p.file} at page ${p.page}` : `open ${p.file}`;
      a.addEventListener("click", openDocument);
      li.querySelector("details").appendChild(a);
    }
    ol.appendChild(li);
  }
}
$("turns").addEventListener("click", (e) => {
  const a = e.target.closest && e.target.closest("a.cite");
  if (!a) return;
  e.preventDefault();
  const li = document.getElementById(a.getAttribute("href").slice(1));
  if (!li) return;
  li.querySelector("details").open = true;
  li.classList.add("flash"); setTimeout(() => li.classList.remove("flash"), 1500);
  li.scrollIntoView({ block: "nearest" });
});

function newTurn(question) {
  const turn = document.createElement("div");
  turn.className = "turn"; turn.id = "t" + (++turnCount); turn.dataset.state = "streaming"; turn.dataset.pieces = "0";
  turn.innerHTML = `<div class="q"></div><div class="a"></div><div class="meta muted"></div><ol class="sources"></ol>`;
  turn.querySelector(".q").textContent = question;
  $("turns").appendChild(turn);
  turn.scrollIntoView({ block: "nearest" });
  return turn;
}

async function ask() {
  const question = $("question").value.trim();
  if (!question || controller) return;
  if (authRequired && !keyInput.value) { askForKey(); return; }
  controller = new AbortController();
  $("ask").disabled = true; $("stop").disabled = false;
  $("question").value = "";
  const turn = newTurn(question);
  const answer = turn.querySelector(".a"), meta = turn.querySelector(".meta");
  const messages = history.concat([{ role: "user", content: question }]);
  const body = { messages, stream: true, stream_options: { include_usage: true } };
  body.rag = $("rag").checked ? { k: Number($("k").value) || 5 } : false;
  const started = performance.now();
  let text = "", first = 0, pieces = 0, finished = false;
  try {
    const res = await fetch("/v1/chat/completions", { method: "POST", headers: headers({"Content-Type": "application/json"}), body: JSON.stringify(body), signal: controller.signal });
    if (!res.ok) { refused(res); throw new Error(await errorText(res)); }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const data = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (!data) continue;
        if (data === "[DONE]") { finished = true; continue; }
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices && chunk.choices[0];
        if (choice && choice.delta && choice.delta.content) {
          if (!first) first = performance.now();
          text += choice.delta.content; pieces++;
          turn.dataset.pieces = String(pieces);
          renderAnswer(answer, text, turn.id);
        }
        if (chunk.sources) renderSources(turn, chunk.sources);
        if (chunk.usage) {
          const secs = (performance.now() - started) / 1000;
          meta.textContent = `${chunk.usage.completion_tokens} tokens in ${secs.toFixed(1)} s` + (first ? `, first after ${((first - started) / 1000).toFixed(2)} s` : "");
        }
      }
    }
    turn.dataset.state = finished ? "done" : "stopped";
  } catch (e) {
    if (e.name === "AbortError") turn.dataset.state = "stopped";
    else { turn.dataset.state = "error"; answer.className = "a error"; answer.textContent = e.message; }
  } finally {
    // A stopped answer stays in the conversation as far as it got; a failed one does not.
    if (turn.dataset.state !== "error") history = messages.concat([{ role: "assistant", content: text }]);
    $("ask").disabled = false; $("stop").disabled = true; controller = null;
  }
}
$("ask").addEventListener("click", ask);
$("stop").addEventListener("click", () => controller && controller.abort());
$("reset").addEventListener("click", () => {
  if (controller) controller.abort();
  history = []; $("turns").innerHTML = ""; $("question").focus();
});
$("question").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask(); });

// --- documents
let offset = 0; const limit = 100;
async function loadDocs(highlight) {
  if (authRequired && !keyInput.value) { $("page").textContent = "enter the API key to see the documents"; return; }
  try {
    const r = await fetch(`/v1/documents?offset=${offset}&limit=${limit}`, { headers: headers() });
    if (!r.ok) { refused(r); $("docs").innerHTML = `<tr><td colspan="3" class="error">${escapeHTML(await errorText(r))}</td></tr>`; return; }
    const j = await r.json();
    $("docs").innerHTML = "";
    for (const d of j.data) {
      const tr = document.createElement("tr");
      tr.dataset.id = d.id; tr.dataset.path = d.path;
      tr.innerHTML = `<td class="path"><a target="_blank" rel="noopener"></a></td><td class="num">${d.chunks}</td><td class="act"><button class="secondary small">delete</button></td>`;
      const link = tr.querySelector("a");
      link.textContent = d.path; link.href = "/v1/documents/" + d.id;
      link.addEventListener("click", openDocument);
      tr.querySelector("button").addEventListener("click", async () => {
        if (!confirm("Delete " + d.path + "?")) return;
        const del = await fetch("/v1/documents/" + d.id, { method: "DELETE", headers: headers() });
        if (!del.ok && !refused(del)) alert(await errorText(del));
        loadDocs();
      });
      $("docs").appendChild(tr);
    }
    $("page").textContent = j.total ? `${offset + 1}–${Math.min(offset + limit, j.total)} of ${j.total}` : "no documents yet";
    $("prev").disabled = offset === 0; $("next").disabled = offset + limit >= j.total;
    const added = highlight != null && $("docs").querySelector(`tr[data-id="${highlight}"]`);
    if (added) { added.classList.add("flash"); added.scrollIntoView({ block: "nearest" }); }
  } catch (e) { $("page").textContent = e.message; }
}
$("prev").addEventListener("click", () => { offset = Math.max(0, offset - limit); loadDocs(); });
$("next").addEventListener("click", () => { offset += limit; loadDocs(); });
$("upload").addEventListener("submit", async (e) => {
  e.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  const form = new FormData(); form.append("file", file, file.name);
  $("uploadStatus").textContent = "uploading " + file.name + "…";
  const r = await fetch("/v1/documents", { method: "POST", headers: headers(), body: form });
  if (r.ok) { const d = await r.json(); $("uploadStatus").textContent = `added ${d.path} (${d.chunks} chunks)`; $("file").value = ""; loadDocs(d.id); }
  else { refused(r); $("uploadStatus").textContent = "upload failed: " + await errorText(r); }
});

(async () => {
  await checkHealth();
  if (authRequired && !keyInput.value) askForKey();
  loadDocs();
  // "/?q=question" asks at once: a link to an answer.
  const initial = new URLSearchParams(location.search).get("q");
  if (initial) { $("question").value = initial; ask(); }
})();
</script>
</body>
</html>
"""#
}
