#!/usr/bin/env bash
# Runs every command of the README's tour as written (the ```sh block after "## A short tour"),
# from the repository root, and fails on the first that fails. Needs ./setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
block=$(awk '/^## A short tour/{tour=1} tour && /^```sh$/{inside=1; next} inside && /^```$/{exit} inside{print}' README.md)
[ -n "$block" ] || { echo "no tour block found in README.md" >&2; exit 1; }
while IFS= read -r line; do
    cmd="${line%%#*}"                      # drop the trailing comment
    [ -n "${cmd// }" ] || continue
    echo "\$ $cmd"
    eval "$cmd" > /tmp/check-readme.out 2>&1 || { cat /tmp/check-readme.out; echo "FAILED: $cmd" >&2; exit 1; }
    head -5 /tmp/check-readme.out
done <<< "$block"
echo "all README commands ran"
