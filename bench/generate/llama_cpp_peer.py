#!/usr/bin/env python3
"""Benchmark peer of bench-generate: llama.cpp (llama-cpp-python) on the same GGUF and token ids.

    python3 bench/generate/llama_cpp_peer.py MODEL.gguf THREADS DECODE_TOKENS < prompt_ids.json

Prints one JSON line: prefill and decode tokens/s (greedy, no stop at end-of-turn), peak RSS (KB).
"""
import json, resource, sys, time

import numpy as np
import llama_cpp
from llama_cpp import Llama

# A llama.cpp that pip built for a CPU with AMX (Sapphire Rapids and later) puts Q4/Q8 weights in its
# AMX buffer type, whose first tile instruction (tilezero) stops the process with an illegal
# instruction on the machine this bench was run on, also after asking Linux for the tile permission
# (arch_prctl): ggml's own path. Keep the weights in ordinary buffers: llama.cpp then runs its
# AVX-512 kernels, its fastest path that works here.
_default_model_params = llama_cpp.llama_cpp.llama_model_default_params


def _model_params_without_extra_buffers():
    params = _default_model_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama_cpp.llama_model_default_params = _model_params_without_extra_buffers

model, threads, decode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
prompt = json.load(sys.stdin)
llm = Llama(model_path=model, n_ctx=1024, n_batch=512, n_threads=threads, n_threads_batch=threads, verbose=False)
n_vocab = llm.n_vocab()


def next_token():
    # Recent llama-cpp-python keeps no scores unless logits_all (which would slow prefill):
    # read the last position's logits from the context directly.
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(n_vocab,))
    return int(np.argmax(logits))


llm.eval(prompt[:8])  # warm-up
prefill = decode_s = 0.0
for _ in range(2):  # best of two
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(prompt)
    t1 = time.perf_counter()
    for _ in range(decode):
        llm.eval([next_token()])
    t2 = time.perf_counter()
    prefill = max(prefill, len(prompt) / (t1 - t0))
    decode_s = max(decode_s, decode / (t2 - t1))
print(json.dumps({"prefill_tps": prefill, "decode_tps": decode_s,
                  "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
