# Sourced by build-data.sh and train.sh: where things are. $1 of the caller is the work folder.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$here/work}"
rag="${RAG:-$root/.build/release/rag}"
[ -x "$rag" ] || { echo "error: $rag: no rag binary (swift build -c release, or set RAG=...)" >&2; exit 1; }
