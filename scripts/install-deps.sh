#!/usr/bin/env bash
# Installs the Debian packages rag builds against (OpenBLAS, poppler-glib, SQLite) and the PDF tools
# the corpus script and tests use; with --test also the headless browser the web page's test drives
# (chromium with its chromedriver). Skips apt when everything is already there.
set -euo pipefail
packages=(libopenblas-dev libpoppler-glib-dev libsqlite3-dev poppler-utils pkg-config unzip)
if [ "${1:-}" = "--test" ]; then packages+=(chromium chromium-driver); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
