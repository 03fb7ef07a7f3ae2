#!/usr/bin/env python3
"""Checks that rag-server speaks OpenAI's API as the official `openai` client sees it.

Usage: python3 scripts/openai_compat.py --base-url http://127.0.0.1:8080/v1 [--api-key KEY]

Runs models, chat (whole and streamed, with and without retrieval), completions (whole and
streamed), embeddings (float and base64) and an unknown model, asserting the shapes the client
parses. Exits non-zero with the failing check's name. Needs `pip install openai`.
"""
import argparse
import base64
import re
import struct
import sys

import openai
from openai import OpenAI

failures = []


def check(name, condition, detail=""):
    status = "ok  " if condition else "FAIL"
    print(f"{status} {name}" + (f": {detail}" if detail and not condition else ""))
    if not condition:
        failures.append(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", default="unused")
    ap.add_argument("--question", default="How many passages does hybrid search return by default?")
    args = ap.parse_args()
    client = OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=120)

    models = client.models.list()
    ids = [m.id for m in models.data]
    check("models.list returns models", len(ids) >= 2, str(ids))
    kinds = {m.id: getattr(m, "kind", None) or (m.model_extra or {}).get("kind") for m in models.data}
    generator = next((i for i, k in kinds.items() if k == "generator"), ids[0])
    embedder = next((i for i, k in kinds.items() if k == "embedder"), ids[-1])

    # llama.cpp's sampling fields, the same for the whole and the streamed request (their texts are compared)
    SAMPLING = {"top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}
    chat = client.chat.completions.create(
        model=generator, messages=[{"role": "user", "content": args.question}], temperature=0, max_tokens=48, seed=1,
        extra_body=SAMPLING)
    check("chat: object", chat.object == "chat.completion", chat.object)
    check("chat: one choice with assistant text", len(chat.choices) == 1 and chat.choices[0].message.role == "assistant"
          and bool(chat.choices[0].message.content))
    check("chat: finish_reason", chat.choices[0].finish_reason in ("stop", "length"), chat.choices[0].finish_reason)
    check("chat: usage adds up", chat.usage.total_tokens == chat.usage.prompt_tokens + chat.usage.completion_tokens)
    sources = (chat.model_extra or {}).get("sources")
    check("chat: extra field sources", isinstance(sources, list) and len(sources) > 0 and "text" in sources[0], str(sources)[:200])

    plain = client.chat.completions.create(
        model=generator, messages=[{"role": "user", "content": "Say hello."}], max_tokens=16, extra_body={"rag": False})
    check("chat rag:false has no sources", (plain.model_extra or {}).get("sources") == [])

    pieces, finish, role, usage, final_sources = [], None, None, None, None
    stream = client.chat.completions.create(
        model=generator, messages=[{"role": "user", "content": args.question}], max_tokens=48, stream=True,
        stream_options={"include_usage": True}, temperature=0, seed=1, extra_body=SAMPLING)
    for chunk in stream:
        check_obj = chunk.object == "chat.completion.chunk"
        if not check_obj:
            check("stream: chunk object", False, chunk.object)
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.role:
                role = c.delta.role
            if c.delta.content:
                pieces.append(c.delta.content)
            if c.finish_reason:
                finish = c.finish_reason
                final_sources = (chunk.model_extra or {}).get("sources")
    check("stream: role first", role == "assistant")
    check("stream: content deltas", len(pieces) > 0)
    check("stream: finish_reason", finish in ("stop", "length"), str(finish))
    # one content delta per generated token, and one more when the citation check appended a marker
    # to an answer that cited nothing (rag's extra: README, Answer quality)
    appended = len(pieces) > 1 and re.fullmatch(r" ?\[\d+\]", pieces[-1]) is not None
    check("stream: usage chunk", usage is not None and usage.completion_tokens == len(pieces) - int(appended), str(usage))
    check("stream: sources on the final chunk", isinstance(final_sources, list) and len(final_sources) > 0)
    check("stream text equals whole text (temperature 0)", "".join(pieces) == chat.choices[0].message.content,
          f"{''.join(pieces)!r} vs {chat.choices[0].message.content!r}")

    comp = client.completions.create(model=generator, prompt="The capital of France is", max_tokens=8, stop=["\n\n"])
    check("completions: object", comp.object == "text_completion", comp.object)
    check("completions: text", isinstance(comp.choices[0].text, str) and comp.choices[0].finish_reason in ("stop", "length"))
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=generator, prompt="The capital of France is", max_tokens=8, stop=["\n\n"], stream=True) if c.choices)
    check("completions: streamed text equals whole text", streamed == comp.choices[0].text, f"{streamed!r} vs {comp.choices[0].text!r}")

    emb = client.embeddings.create(model=embedder, input=["a first sentence", "a second one"])
    check("embeddings: two vectors", len(emb.data) == 2 and [d.index for d in emb.data] == [0, 1])
    v = emb.data[0].embedding
    norm = sum(x * x for x in v) ** 0.5
    check("embeddings: normalised floats", abs(norm - 1) < 1e-3, str(norm))
    check("embeddings: usage", emb.usage.prompt_tokens > 0)
    # The client asks for base64 by default when numpy is present; ask explicitly and decode.
    raw = client.embeddings.with_raw_response.create(model=embedder, input="a first sentence", encoding_format="base64")
    encoded = raw.http_response.json()["data"][0]["embedding"]
    decoded = struct.unpack("<%df" % (len(base64.b64decode(encoded)) // 4), base64.b64decode(encoded))
    check("embeddings: base64 = little-endian float32 of the same vector",
          len(decoded) == len(v) and max(abs(a - b) for a, b in zip(decoded, v)) < 1e-6)

    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        check("unknown model raises NotFoundError", False, "no error")
    except openai.NotFoundError as e:
        check("unknown model raises NotFoundError", e.code == "model_not_found", str(e.code))
    try:
        client.chat.completions.create(model=generator, messages=[])
        check("empty messages raises BadRequestError", False, "no error")
    except openai.BadRequestError as e:
        check("empty messages raises BadRequestError", e.param == "messages", str(e.param))

    print(f"{len(failures)} failed" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
