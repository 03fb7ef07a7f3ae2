#!/usr/bin/env bash
# Builds the PDF documents of the sample corpus from their groff sources:
#   corpus-src/<dir>/<name>.ms  ->  corpus/<dir>/<name>.pdf
# The sources live outside corpus/ so that ingestion does not read every document twice.
# Needs the Debian package `groff` (groff-base alone has no PDF device) and poppler-utils for the check.
# Hyphenation is off (.nr HY 0 / .nh in each source) so that words extract whole with pdftotext.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! groff -Tpdf -v >/dev/null 2>&1 || [ ! -d /usr/share/groff/current/font/devpdf ]; then
    echo "groff with the pdf device is missing: apt-get install groff" >&2
    exit 1
fi
find corpus-src -name '*.ms' | sort | while read -r src; do
    rel="${src#corpus-src/}"
    out="corpus/${rel%.ms}.pdf"
    mkdir -p "$(dirname "$out")"
    # -k: run preconv so UTF-8 input is accepted; A4 paper; warnings are errors worth seeing.
    groff -k -ms -Tpdf -dpaper=a4 -P-pa4 -ww "$src" > "$out.tmp"
    # gropdf 1.22 ignores SOURCE_DATE_EPOCH; pin the creation date (same length, so the xref
    # offsets stay valid) so that rebuilding unchanged sources gives identical files.
    perl -0777 -pi -e "s/\(D:\d{14}\+00'00'\)/(D:20260101000000+00'00')/g" "$out.tmp"
    mv "$out.tmp" "$out"
    pages=$(pdfinfo "$out" | awk '/^Pages:/ {print $2}')
    echo "$out: $pages pages"
done
