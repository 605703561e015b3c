#!/usr/bin/env bash
# Real-time commerce benchmarks (docs/benchmarks.md "Real-time commerce"):
#   1. durable buys/s over websockets with ack latency
#   2. fan-out of one event to 10,000 viewers, harvest-server vs a broadcast server on npm ws
# Usage: bench/commerce/run.sh [path/to/harvest-server]   (default: build/server/harvest-server)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/server/harvest-server}"
[[ -x "$BIN" ]] || { echo "build the release first: scripts/build.sh release" >&2; exit 2; }
[[ -d "$ROOT/tests/js/node_modules/ws" ]] || { echo "run scripts/install-deps.sh (npm ws)" >&2; exit 2; }
# 10,000 viewers: 10k server sockets in one process, 2.5k per client process (hard limit here: 20,000).
ulimit -n "$(ulimit -Hn)"
cd "$ROOT/bench/commerce"
echo "== buys: ${BUY_CONNECTIONS:=256} connections x ${BUY_WINDOW:=16} in flight, ${BUY_SECONDS:=10} s"
node buys.mjs "$BIN" "$BUY_CONNECTIONS" "$BUY_WINDOW" "$BUY_SECONDS" 2
echo "== fan-out: ${FANOUT_VIEWERS:=10000} viewers"
node fanout.mjs "$BIN" "$FANOUT_VIEWERS" "${FANOUT_EVENTS:-20}" "${FANOUT_BURST:-20}" 4
