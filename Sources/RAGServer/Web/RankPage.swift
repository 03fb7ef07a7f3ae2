/// The page served at GET /rank: "which answer is better". It shows one collected question at a
/// time (from the server's `--prefs` file), with the passages the answers were given and the
/// candidate answers; a click on an answer gives it the next place (best first; with two answers
/// one click decides), and Save records the ranking through POST /v1/preferences/{i}/ranking.
/// Inline CSS and JS only; the API key is the main page's (localStorage "rag.key").
enum RankPage {
    static let html = WebStyle.head(title: "rag · rank answers") + #"""
  header a { margin-left:auto; color:var(--accent); font-size:13px; }
  main { max-width:900px; margin:0 auto; padding:24px; }
  .card { margin-bottom:16px; }
  h2 { font-size:16px; margin:0 0 8px; overflow-wrap:anywhere; }
  details { margin-top:8px; }
  summary { cursor:pointer; color:var(--muted); font-size:13px; }
  blockquote { margin:6px 0; padding:8px 10px; background:var(--bg); border-left:3px solid var(--accent); white-space:pre-wrap; font-size:14px; overflow-wrap:anywhere; }
  .answers { display:flex; flex-direction:column; gap:10px; }
  .answer { position:relative; text-align:left; width:100%; font:inherit; color:inherit; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 14px 12px 52px; cursor:pointer; white-space:pre-wrap; overflow-wrap:anywhere; }
  .answer:hover { border-color:var(--accent); }
  .answer .place { position:absolute; left:12px; top:10px; width:28px; height:28px; border-radius:50%; background:var(--soft); color:var(--muted); display:flex; align-items:center; justify-content:center; font-weight:600; font-size:13px; }
  .answer[data-place] { border-color:var(--accent); background:#f5f8ff; }
  .answer[data-place] .place { background:var(--accent); color:#fff; }
  .row { display:flex; gap:10px; align-items:center; margin-top:12px; flex-wrap:wrap; }
  button.act { font:inherit; padding:7px 16px; border:0; border-radius:6px; background:var(--accent); color:#fff; cursor:pointer; }
  button.act.secondary { background:var(--soft); color:var(--fg); }
  button.act:disabled { opacity:.5; cursor:default; }
  input[type=password] { font:inherit; padding:6px 10px; border:1px solid var(--line); border-radius:6px; }
</style>
</head>
<body>
<header><h1>Which answer is better?</h1><span class="muted" id="progress">loading…</span><a href="/">ask questions</a></header>
<main id="view" data-state="loading">
  <div class="card" id="keyCard" hidden>
    <strong>This server needs an API key.</strong>
    <form id="keyForm" class="row"><input type="password" id="keyEntry" placeholder="API key" autocomplete="off"><button class="act" type="submit">Use key</button></form>
  </div>
  <div class="card" id="message" hidden></div>
  <div class="card" id="record" hidden>
    <div class="muted" id="which"></div>
    <h2 id="question"></h2>
    <details id="passagesBox"><summary>the passages the answers were given</summary><div id="passages"></div></details>
  </div>
  <div id="answersCard" hidden>
    <p class="muted">Click the answers from best to worst: correct according to the passages, citing the right one, brief.</p>
    <div class="answers" id="answers"></div>
    <div class="row">
      <button class="act" id="save" disabled>Save ranking</button>
      <button class="act secondary" id="clear">Clear</button>
      <button class="act secondary" id="skip">Skip</button>
      <span class="muted" id="saved"></span>
    </div>
  </div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let key = localStorage.getItem("rag.key") || "";
let current = null;      // the record shown
let order = [];          // response indices clicked, best first

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}
async function errorText(res) {
  try { const j = await res.json(); return (j.error && j.error.message) || res.statusText; } catch (_) { return res.status + " " + res.statusText; }
}
function show(id, on) { $(id).hidden = !on; }
function say(text, isError) {
  $("message").textContent = text; $("message").className = "card" + (isError ? " error" : ""); show("message", true);
  show("record", false); show("answersCard", false);
}
async function api(path, init) {
  const r = await fetch(path, Object.assign({ headers: headers(init && init.body ? { "Content-Type": "application/json" } : {}) }, init || {}));
  if (r.status === 401) { show("keyCard", true); throw new Error("This server needs an API key."); }
  if (!r.ok) throw new Error(await errorText(r));
  return r.json();
}

// Where ranking stands, then the record to show: ?i=N, else the first one not ranked yet.
async function load(index) {
  $("view").dataset.state = "loading";
  try {
    const p = await api("/v1/preferences");
    $("progress").textContent = `${p.ranked} of ${p.total} ranked`;
    const i = index != null ? index : p.next;
    if (i == null) { say(p.total ? "Every question is ranked. Export the rankings for training: GET /v1/preferences/export, or rag prefs rank FILE --out PAIRS." : "The preferences file is empty."); $("view").dataset.state = "done"; return; }
    render(await api("/v1/preferences/" + i));
    $("view").dataset.state = "ready";
  } catch (e) { say(e.message, true); $("view").dataset.state = "error"; }
}

function render(rec) {
  current = rec; order = [];
  show("message", false); show("record", true); show("answersCard", true);
  $("which").textContent = `question ${rec.index + 1}` + (rec.ranking ? (rec.judge ? ` · ranked by ${rec.judge}` : " · ranked") : "");
  $("question").textContent = rec.question;
  const box = $("passages"); box.innerHTML = "";
  for (const p of rec.passages) {
    const q = document.createElement("blockquote");
    q.textContent = `[${p.n}] ${p.file}\n${p.text}`;
    box.appendChild(q);
  }
  const list = $("answers"); list.innerHTML = "";
  rec.responses.forEach((text, i) => {
    const b = document.createElement("button");
    b.className = "answer"; b.dataset.index = i;
    b.innerHTML = '<span class="place"></span>';
    b.appendChild(document.createTextNode(text || "(empty answer)"));
    b.addEventListener("click", () => choose(i));
    list.appendChild(b);
  });
  $("saved").textContent = "";
  update();
}

// A click gives the answer the next place; a click on a placed answer takes it (and those after it) back.
function choose(i) {
  const at = order.indexOf(i);
  if (at >= 0) order = order.slice(0, at); else order.push(i);
  if (order.length === current.responses.length - 1) {   // the last one is decided
    for (let j = 0; j < current.responses.length; j++) if (!order.includes(j)) { order.push(j); break; }
  }
  update();
}
function update() {
  for (const b of $("answers").children) {
    const at = order.indexOf(Number(b.dataset.index));
    if (at >= 0) { b.dataset.place = at + 1; b.firstChild.textContent = at + 1; }
    else { delete b.dataset.place; b.firstChild.textContent = ""; }
  }
  $("save").disabled = order.length !== current.responses.length;
}

$("save").addEventListener("click", async () => {
  $("save").disabled = true;
  try {
    await api(`/v1/preferences/${current.index}/ranking`, { method: "POST", body: JSON.stringify({ ranking: order }) });
    $("saved").textContent = "saved";
    load();
  } catch (e) { $("saved").textContent = e.message; $("saved").className = "error"; update(); }
});
$("clear").addEventListener("click", () => { order = []; update(); });
$("skip").addEventListener("click", async () => {
  // The next record after this one that is not ranked yet (wrapping), else the first.
  try {
    const p = await api("/v1/preferences");
    for (let k = 1; k <= p.total; k++) {
      const i = (current.index + k) % p.total;
      const r = await api("/v1/preferences/" + i);
      if (!r.ranking || i === current.index) { render(r); return; }
    }
  } catch (e) { say(e.message, true); }
});
$("keyForm").addEventListener("submit", (e) => {
  e.preventDefault();
  key = $("keyEntry").value; localStorage.setItem("rag.key", key); show("keyCard", false); load();
});

const start = new URLSearchParams(location.search).get("i");
load(start != null && /^\d+$/.test(start) ? Number(start) : null);
</script>
</body>
</html>
"""#
}
