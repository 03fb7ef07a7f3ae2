#!/usr/bin/env python3
"""Loads a folder written by `rag adapter merge` in transformers and checks it against transformers + peft.

    pip install transformers gguf torch peft numpy
    .build/release/rag adapter merge --adapter adapters/SmolLM2-135M-Instruct-rag --out /tmp/smollm2-rag
    python3 scripts/check_merged_in_transformers.py /tmp/smollm2-rag

The merged folder (SmolLM2-135M-Instruct Q4_1 + the shipped adapter, F32) is read by
AutoModelForCausalLM / AutoTokenizer like any Hugging Face Llama checkpoint. Its teacher-forced
top-20 logits on the prompts of Tests/GeneratorTests/Fixtures/default_adapter_parity.json are
compared with that fixture (transformers + peft on the GGUF with the unmerged adapter), and its
tokenizer with the GGUF's (as the fixtures read it) on sample texts and the chat template.
Exit status 1 when they differ.
"""
import json, sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
from make_generator_fixtures import real_tokenizer  # noqa: E402

root = Path(__file__).resolve().parents[1]
TEXTS = ["Hello, world! It's 2026-12-06.", "  two  spaces\tand a tab\n", "数字 123 и кириллица",
         "def f(x):\n    return x ** 2  # square"]


def main():
    merged = Path(sys.argv[1])
    torch.set_num_threads(2)
    fixture = json.loads((root / "Tests/GeneratorTests/Fixtures/default_adapter_parity.json").read_text())
    ours, reference = AutoTokenizer.from_pretrained(str(merged)), real_tokenizer()
    ok = True
    for text in TEXTS:
        a, b = ours(text, add_special_tokens=False)["input_ids"], reference(text, add_special_tokens=False)["input_ids"]
        ok &= a == b
        print(f"tokenizer {'same' if a == b else 'DIFFERENT'} ids for {text!r}")
    for case in fixture["cases"]:
        a = ours.apply_chat_template(case["messages"], tokenize=False, add_generation_prompt=True)
        b = reference.apply_chat_template(case["messages"], tokenize=False, add_generation_prompt=True)
        ok &= a == b
        print(f"chat template {'same' if a == b else 'DIFFERENT'} text")

    model = AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32)
    model.eval()
    worst, agree, total = 0.0, 0, 0
    for case in fixture["cases"]:
        with torch.no_grad():
            logits = model(torch.tensor([case["ids"]])).logits[0].double().numpy()  # [T, vocab]
        for k, p in enumerate(case["positions"]):
            expected_ids, expected = case["lora_top_ids"][k], case["lora_top_logits"][k]
            total += 1
            agree += int(logits[p].argmax()) == expected_ids[0]
            worst = max(worst, max(abs(logits[p, i] - v) for i, v in zip(expected_ids, expected)))
    print(f"merged model in transformers vs transformers + peft: top-1 {agree}/{total}, max |dlogit| {worst:.2e}")
    ok &= worst <= 1e-2 and agree == total
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
