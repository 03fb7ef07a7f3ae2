/// What the server's pages share: the document's start (doctype, charset, viewport, title, no
/// favicon request) and the base styles (colours, body, header, cards, muted and error text), so
/// that the chat page and the ranking page look like one site.
enum WebStyle {
    static func head(title: String) -> String {
        #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>\#(title)</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg:#1d2330; --muted:#667085; --line:#e4e7ec; --accent:#3056d3; --bg:#f7f8fa; --soft:#eef1f6; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.5 system-ui, sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; flex-wrap:wrap; align-items:center; gap:8px 16px; padding:12px 24px; background:#fff; border-bottom:1px solid var(--line); }
  header h1 { font-size:18px; margin:0; }
  .card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 20px; min-width:0; }
  .muted { color:var(--muted); font-size:13px; }
  .error { color:#b42318; }
"""#
    }
}
