/// The single page served at GET /: ask with streamed answers and clickable sources, upload and
/// list documents. Inline CSS and JS only; it stores an optional API key in localStorage.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rag</title>
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#3056d3; --bg:#f7f8fa; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.5 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:12px 24px; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  header .status { color:var(--muted); font-size:13px; }
  header input[type=password] { margin-left:auto; width:260px; flex:0 0 260px; }
  main { display:grid; grid-template-columns: minmax(0,2fr) minmax(0,1fr); gap:24px; padding:24px; max-width:1200px; margin:0 auto; }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px; }
  h2 { font-size:15px; margin:0 0 12px; }
  textarea, input[type=text], input[type=password] { width:100%; font:inherit; padding:8px 10px; border:1px solid var(--line); border-radius:6px; }
  textarea { min-height:70px; resize:vertical; }
  button { font:inherit; padding:7px 16px; border:0; border-radius:6px; background:var(--accent); color:#fff; cursor:pointer; }
  button.secondary { background:#eef1f6; color:var(--fg); }
  button:disabled { opacity:.5; cursor:default; }
  .row { display:flex; gap:10px; align-items:center; margin-top:10px; flex-wrap:wrap; }
  .row label { color:var(--muted); font-size:13px; }
  #answer { white-space:pre-wrap; min-height:60px; margin-top:16px; padding:12px; background:var(--bg); border-radius:6px; }
  #answer .cite { color:var(--accent); font-weight:600; cursor:pointer; }
  #sources { margin:12px 0 0; padding:0; list-style:none; }
  #sources li { border-top:1px solid var(--line); padding:8px 0; }
  #sources a { color:var(--accent); cursor:pointer; text-decoration:none; }
  #sources .passage { display:none; margin-top:6px; padding:8px 10px; background:var(--bg); border-left:3px solid var(--accent); white-space:pre-wrap; font-size:14px; }
  #sources li.open .passage { display:block; }
  table { width:100%; border-collapse:collapse; font-size:13px; }
  td, th { text-align:left; padding:6px 4px; border-bottom:1px solid var(--line); }
  td.num { text-align:right; color:var(--muted); }
  .error { color:#b42318; }
  .muted { color:var(--muted); font-size:13px; }
  @media (max-width: 800px) { main { grid-template-columns:1fr; } }
</style>
</head>
<body>
<header>
  <h1>rag</h1><span class="status" id="status">checking…</span>
  <input type="password" id="key" placeholder="API key (if the server needs one)" autocomplete="off">
</header>
<main>
  <section>
    <h2>Ask the knowledge base</h2>
    <textarea id="question" placeholder="Ask a question about your documents…"></textarea>
    <div class="row">
      <button id="ask">Ask</button><button id="stop" class="secondary" disabled>Stop</button>
      <label><input type="checkbox" id="rag" checked> use documents</label>
      <label>passages <input type="number" id="k" value="5" min="1" max="20" style="width:56px"></label>
      <span class="muted" id="timing"></span>
    </div>
    <div id="answer" class="muted">The answer appears here, word by word.</div>
    <ul id="sources"></ul>
  </section>
  <section>
    <h2>Documents</h2>
    <form id="upload" class="row"><input type="file" id="file" name="file"><button type="submit">Upload</button></form>
    <p class="muted" id="uploadStatus"></p>
    <table><thead><tr><th>path</th><th>chunks</th><th></th></tr></thead><tbody id="docs"></tbody></table>
    <div class="row"><button class="secondary" id="prev">‹ prev</button><span class="muted" id="page"></span><button class="secondary" id="next">next ›</button></div>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const keyInput = $("key");
keyInput.value = localStorage.getItem("rag.key") || "";
keyInput.addEventListener("change", () => { localStorage.setItem("rag.key", keyInput.value); loadDocs(); });
function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (keyInput.value) h["Authorization"] = "Bearer " + keyInput.value;
  return h;
}
async function errorText(res) {
  try { const j = await res.json(); return (j.error && j.error.message) || res.statusText; } catch (_) { return res.status + " " + res.statusText; }
}
function escapeHTML(s) { return s.replace(/[&<>"]/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c])); }

async function checkHealth() {
  try {
    const r = await fetch("/health");
    const j = await r.json();
    $("status").textContent = j.status === "ok" ? "ready" : j.status;
    if (j.status === "loading") setTimeout(checkHealth, 1000);
  } catch (_) { $("status").textContent = "offline"; }
}

let controller = null;
let passages = [];
function renderAnswer(text) {
  // [n] citations become links to the passage.
  $("answer").innerHTML = escapeHTML(text).replace(/\[(\d+)\]/g, (m, n) => `<span class="cite" data-n="${n}">[${n}]</span>`);
}
function renderSources(list) {
  passages = list || [];
  $("sources").innerHTML = "";
  for (const p of passages) {
    const li = document.createElement("li");
    li.dataset.n = p.n;
    const where = [p.file, p.page ? "page " + p.page : "", p.section || ""].filter(Boolean).join(", ");
    li.innerHTML = `<a>[${p.n}] ${escapeHTML(where)}</a> <span class="muted">score ${p.score.toFixed(3)}</span><div class="passage"></div>`;
    li.querySelector(".passage").textContent = p.text;
    li.querySelector("a").addEventListener("click", () => li.classList.toggle("open"));
    $("sources").appendChild(li);
  }
  const firstSource = $("sources").firstChild;
  if (firstSource) firstSource.classList.add("open");   // show the first cited passage
}
$("answer").addEventListener("click", (e) => {
  const n = e.target.dataset && e.target.dataset.n;
  if (!n) return;
  const li = document.querySelector(`#sources li[data-n="${n}"]`);
  if (li) { li.classList.add("open"); li.scrollIntoView({behavior: "smooth", block: "nearest"}); }
});

async function ask() {
  const question = $("question").value.trim();
  if (!question) return;
  controller = new AbortController();
  $("ask").disabled = true; $("stop").disabled = false;
  $("answer").className = ""; renderAnswer(""); renderSources([]); $("timing").textContent = "";
  const body = { messages: [{ role: "user", content: question }], stream: true, stream_options: { include_usage: true } };
  body.rag = $("rag").checked ? { k: Number($("k").value) || 5 } : false;
  const started = performance.now();
  let text = "", first = 0;
  try {
    const res = await fetch("/v1/chat/completions", { method: "POST", headers: headers({"Content-Type": "application/json"}), body: JSON.stringify(body), signal: controller.signal });
    if (!res.ok) throw new Error(await errorText(res));
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
        if (!data || data === "[DONE]") continue;
        const chunk = JSON.parse(data);
        if (chunk.error) throw new Error(chunk.error.message);
        const choice = chunk.choices && chunk.choices[0];
        if (choice && choice.delta && choice.delta.content) {
          if (!first) first = performance.now();
          text += choice.delta.content; renderAnswer(text);
        }
        if (chunk.sources) renderSources(chunk.sources);
        if (chunk.usage) {
          const secs = (performance.now() - started) / 1000;
          $("timing").textContent = `${chunk.usage.completion_tokens} tokens in ${secs.toFixed(1)} s` + (first ? `, first after ${((first - started) / 1000).toFixed(2)} s` : "");
        }
      }
    }
  } catch (e) {
    if (e.name !== "AbortError") { $("answer").className = "error"; $("answer").textContent = e.message; }
  } finally {
    $("ask").disabled = false; $("stop").disabled = true; controller = null;
  }
}
$("ask").addEventListener("click", ask);
$("stop").addEventListener("click", () => controller && controller.abort());
$("question").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) ask(); });

let offset = 0; const limit = 20;
async function loadDocs() {
  try {
    const r = await fetch(`/v1/documents?offset=${offset}&limit=${limit}`, { headers: headers() });
    if (!r.ok) { $("docs").innerHTML = `<tr><td colspan="3" class="error">${escapeHTML(await errorText(r))}</td></tr>`; return; }
    const j = await r.json();
    $("docs").innerHTML = "";
    for (const d of j.data) {
      const tr = document.createElement("tr");
      tr.innerHTML = `<td></td><td class="num">${d.chunks}</td><td><button class="secondary">delete</button></td>`;
      tr.firstChild.textContent = d.path;
      tr.querySelector("button").addEventListener("click", async () => {
        if (!confirm("Delete " + d.path + "?")) return;
        const del = await fetch("/v1/documents/" + d.id, { method: "DELETE", headers: headers() });
        if (!del.ok) alert(await errorText(del));
        loadDocs();
      });
      $("docs").appendChild(tr);
    }
    $("page").textContent = j.total ? `${offset + 1}–${Math.min(offset + limit, j.total)} of ${j.total}` : "no documents yet";
    $("prev").disabled = offset === 0; $("next").disabled = offset + limit >= j.total;
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
  if (r.ok) { const d = await r.json(); $("uploadStatus").textContent = `added ${d.path} (${d.chunks} chunks)`; $("file").value = ""; loadDocs(); }
  else $("uploadStatus").textContent = "upload failed: " + await errorText(r);
});
checkHealth(); loadDocs();
// "/?q=question" asks at once: a link to an answer.
const initial = new URLSearchParams(location.search).get("q");
if (initial) { $("question").value = initial; ask(); }
</script>
</body>
</html>
"""#
}
