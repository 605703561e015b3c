#!/usr/bin/env bash
# Durable buys/s on one hot product with PostgreSQL (docs/benchmarks.md "PostgreSQL store").
# Starts its own PostgreSQL 15 (initdb in a temp dir as the postgres user, fsync on, a free
# port), runs build/bench/store/pg_hot_product against it, and removes everything.
#   bench/store/run.sh [pg_hot_product flags...]      (after scripts/build.sh release)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$ROOT/build/bench/store/pg_hot_product"
PG=/usr/lib/postgresql/15/bin
[ -x "$BIN" ] || { echo "build it first: scripts/build.sh release" >&2; exit 1; }
dir="$(mktemp -d)"
chown postgres: "$dir"
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG/initdb" -D "$dir/data" -A trust -U postgres \
  --no-sync -E UTF8 --locale=C >/dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG/postgres" -D "$dir/data" -p "$port" -k "$dir" \
  -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on >"$dir/log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
pg_isready -q -h 127.0.0.1 -p "$port" || { cat "$dir/log"; exit 1; }
psql -q -h 127.0.0.1 -p "$port" -U postgres -c 'CREATE DATABASE harvest'
"$BIN" "postgresql://postgres@127.0.0.1:$port/harvest" "$@"
