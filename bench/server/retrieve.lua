-- wrk script: POST /v1/retrieve with the question from RAG_BENCH_QUESTION.
local q = os.getenv("RAG_BENCH_QUESTION") or "What does the guide say about installation?"
wrk.method = "POST"
wrk.path = "/v1/retrieve"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query": "' .. q:gsub('\\', '\\\\'):gsub('"', '\\"') .. '", "k": 5}'
