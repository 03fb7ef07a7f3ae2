#!/usr/bin/env python3
"""Streams chat completions from rag-server with N concurrent clients (stdlib only) and prints the
time to first token and the decode rate (tokens/s after the first token) per stream."""
import argparse
import http.client
import json
import statistics
import threading
import time
import urllib.parse


def one_stream(base, question, max_tokens, results):
    u = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
    body = json.dumps({"messages": [{"role": "user", "content": question}], "stream": True,
                       "stream_options": {"include_usage": True}, "max_tokens": max_tokens, "temperature": 0})
    start = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        results.append({"error": f"HTTP {resp.status}: {resp.read()[:200]!r}"})
        return
    first, tokens, buffer = None, 0, b""
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            data = b"\n".join(l[5:].strip() for l in event.split(b"\n") if l.startswith(b"data:"))
            if not data or data == b"[DONE]":
                continue
            obj = json.loads(data)
            for c in obj.get("choices", []):
                if c.get("delta", {}).get("content"):
                    if first is None:
                        first = time.perf_counter()
                    tokens += 1
            if obj.get("usage"):
                tokens = obj["usage"]["completion_tokens"]
    end = time.perf_counter()
    conn.close()
    ttft = (first or end) - start
    decode = (tokens - 1) / (end - first) if first and tokens > 1 and end > first else 0.0
    results.append({"ttft": ttft, "tokens": tokens, "decode": decode, "total": end - start})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--streams", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--question", default="What does the guide say about installation?")
    a = ap.parse_args()
    results = []
    wall = time.perf_counter()
    for _ in range(a.rounds):
        threads = [threading.Thread(target=one_stream, args=(a.base_url, a.question, a.max_tokens, results)) for _ in range(a.streams)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall = time.perf_counter() - wall
    errors = [r["error"] for r in results if "error" in r]
    ok = [r for r in results if "error" not in r]
    if not ok:
        print(f"{a.streams} stream(s): all failed: {errors[:1]}")
        return
    total_tokens = sum(r["tokens"] for r in ok)
    print(f"{a.streams} concurrent stream(s), {len(ok)} runs: "
          f"TTFT p50 {statistics.median(r['ttft'] for r in ok) * 1000:.0f} ms, max {max(r['ttft'] for r in ok) * 1000:.0f} ms; "
          f"decode {statistics.median(r['decode'] for r in ok):.1f} tokens/s per stream; "
          f"aggregate {total_tokens / wall:.1f} tokens/s" + (f"; {len(errors)} errors" if errors else ""))


if __name__ == "__main__":
    main()
