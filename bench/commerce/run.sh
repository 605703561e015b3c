#!/usr/bin/env bash
# Real-time commerce benchmarks (docs/benchmarks.md "Real-time commerce"), in one go:
#   1. durable buys/s over websockets with ack latency (harvest-server)
#   3. checkout: reservations/s, payments/s, expiries/s (checkout.sh)
#   2. fan-out of one event to 10,000 viewers: harvest-server and a broadcast server on npm `ws`,
#      side by side, same load generator, same pinning; then floor_server, the least any server
#      can do here (one send() per viewer), as the yardstick
# The load generator is build/bench/commerce/loadgen (C++, epoll). Prints one table at the end.
#
# Usage: bench/commerce/run.sh [path/to/harvest-server]   (default: build/server/harvest-server)
# Environment (defaults in brackets):
#   SERVER_CPUS [] CLIENT_CPUS []        taskset CPU lists for the server and for loadgen
#                                        (empty: no pinning; the figures in docs are unpinned)
#   LOADGEN_THREADS [1]                  loadgen threads
#   BUY_CONNECTIONS [64] BUY_WINDOW [16] BUY_SECONDS [10] BUY_BATCH [0]
#   FANOUT_VIEWERS [10000] FANOUT_EVENTS [20] FANOUT_BURST [20] FANOUT_RATE [5] FANOUT_RATE_SECONDS [5]
#   FANOUT_CLIENT [socket]               how fan-out latency is taken (docs/benchmarks.md):
#                                        socket: until the viewer's socket had the bytes (kernel
#                                          receive timestamp, loadgen --socket-time); loadgen's
#                                          viewer threads at idle priority read when the server
#                                          leaves a core free, as if they were on other machines;
#                                        app: until loadgen read them, loadgen at normal priority
#                                          (the measure of sessions 2-5)
#   FANOUT_GATHER_US [500]               loadgen --gather-us: pause after catching up (loadgen.cpp)
#   FANOUT_THREADS [unset]               harvest-server --fanout-threads N (see docs/architecture.md)
#   FLOOR_THREADS [2]                    floor_server threads (the yardstick: floor_server.cpp)
#   SKIP_BUYS=1 SKIP_FANOUT=1 SKIP_WS=1 SKIP_FLOOR=1  leave a part out
#   PERF_DIR=dir                         record each server run with `perf record -e cpu-clock -g`
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/server/harvest-server}"
LOADGEN="${LOADGEN:-$(dirname "$(dirname "$BIN")")/bench/commerce/loadgen}"
FLOOR="$(dirname "$LOADGEN")/floor_server"
[[ -x "$BIN" ]] || { echo "build the release first: scripts/build.sh release" >&2; exit 2; }
[[ -x "$LOADGEN" ]] || { echo "no loadgen at $LOADGEN: scripts/build.sh release" >&2; exit 2; }
[[ -d "$ROOT/tests/node_modules/ws" ]] || { echo "run scripts/install-deps.sh (npm ws)" >&2; exit 2; }
# 10,000 viewers: 10k sockets in the server and 10k in loadgen (hard limit here: 20,000).
ulimit -n "$(ulimit -Hn)"

SERVER_CPUS="${SERVER_CPUS-}"
CLIENT_CPUS="${CLIENT_CPUS-}"
THREADS="${LOADGEN_THREADS:-1}"
ADMIN=bench-admin
# Command prefixes that pin (taskset execs the program, so $! is the server's own pid).
PIN_SERVER=(); [[ -n "$SERVER_CPUS" ]] && PIN_SERVER=(taskset -c "$SERVER_CPUS")
PIN_CLIENT=(); [[ -n "$CLIENT_CPUS" ]] && PIN_CLIENT=(taskset -c "$CLIENT_CPUS")

WORK="$(mktemp -d /tmp/harvest-bench-XXXXXX)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "run.sh: failed at line $LINENO; server log:" >&2; tail -5 "$WORK/server.log" >&2' ERR

# start_harvest: starts harvest-server on a free port (sets SERVER_PID, PORT).
start_harvest() {
  mkdir -p "$WORK/data"
  rm -rf "$WORK/data"/*
  HARVEST_ADMIN_TOKEN=$ADMIN HARVEST_WS_MESSAGE_RATE=1000000 HARVEST_WS_MESSAGE_BURST=1000000 \
  HARVEST_WS_CHAT_RATE=1000000 HARVEST_WS_CHAT_BURST=1000000 \
    "${PIN_SERVER[@]}" "$BIN" --http-port 0 --rtmp-port 0 --srt-port 0 --bind 127.0.0.1 \
      --data-dir "$WORK/data" ${FANOUT_THREADS:+--fanout-threads "$FANOUT_THREADS"} >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$WORK/server.log" 'http_port=\K[0-9]+'
}
start_floor() {
  "${PIN_SERVER[@]}" "$FLOOR" --threads "${FLOOR_THREADS:-2}" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$WORK/server.log" 'port=\K[0-9]+'
}
start_ws_peer() {
  "${PIN_SERVER[@]}" node "$ROOT/bench/commerce/ws_broadcast_server.mjs" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  wait_port "$WORK/server.log" 'port=\K[0-9]+'
}
wait_port() {
  PORT=""
  for _ in $(seq 300); do
    PORT="$(grep -oP "$2" "$1" | head -1 || true)"
    [[ -n "$PORT" ]] && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$1" >&2; exit 1
}
PERF_PID=""
perf_start() {  # perf_start NAME: profiles the running server until perf_stop
  [[ -n "${PERF_DIR:-}" ]] || return 0
  mkdir -p "$PERF_DIR"
  perf record -e cpu-clock -F ${PERF_FREQ:-1999} ${PERF_CALLGRAPH:--g} ${PERF_DELAY_MS:+-D "$PERF_DELAY_MS"} -p "$SERVER_PID" -o "$PERF_DIR/$1.data" >/dev/null 2>&1 &
  PERF_PID=$!
}
perf_stop() {
  [[ -n "$PERF_PID" ]] || return 0
  kill -TERM "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=""
}
stop_server() {
  perf_stop
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
api() {  # api METHOD PATH [JSON]
  curl -sf -X "$1" -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
       ${3:+--data "$3"} "http://127.0.0.1:$PORT$2"
}
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
field() { grep -oP "(^| )$1=\K[^ ]+" <<<"$2" || echo "-"; }
load() { cut -d' ' -f1 /proc/loadavg; }

declare -a ROWS

if [[ -z "${SKIP_BUYS:-}" ]]; then
  start_harvest
  stream="$(api POST /api/streams '{"title":"bench","farmer":"bench"}' | jq -r .id)"
  api PUT "/api/streams/$stream/products" \
    '{"products":[{"id":"bench","title":"隰县玉露香梨","price":3990,"currency":"CNY","stock":100000000}]}' >/dev/null
  conns="${BUY_CONNECTIONS:-64}" window="${BUY_WINDOW:-16}"
  echo "== buys: $conns connections x $window in flight, ${BUY_SECONDS:-10} s (load $(load))"
  batch_flag=""; [[ "${BUY_BATCH:-0}" == 1 ]] && batch_flag="--batch"
  perf_start buys
  out="$("${PIN_CLIENT[@]}" "$LOADGEN" buys --port "$PORT" --stream "$stream" --connections "$conns" \
         --window "$window" --seconds "${BUY_SECONDS:-10}" --threads "$THREADS" --server-pid "$SERVER_PID" $batch_flag)"
  echo "$out"
  groups="$(metric harvest_store_commit_group_size_count)"
  commit_sum="$(metric harvest_store_commit_seconds_sum)"
  confirmed="$(field confirmed "$out")"
  per_group="$(awk -v c="$confirmed" -v g="$groups" 'BEGIN { if (g > 0) printf "%.0f", c / g; else print "-" }')"
  commit_ms="$(awk -v s="$commit_sum" -v g="$groups" 'BEGIN { if (g > 0) printf "%.2f", 1000 * s / g; else print "-" }')"
  echo "   orders per fsync: $per_group, mean commit: $commit_ms ms, load after: $(load)"
  ROWS+=("$(printf '| buys, %s conns x %s in flight%s | %s buys/s | ack p50 %s ms, p99 %s ms | %s orders/fsync, commit %s ms | server %s µs CPU/buy | loadgen CPU %s%% | load %s |' \
    "$conns" "$window" "${batch_flag:+, batch=1}" "$(field buys_per_s "$out")" "$(field p50_ms "$out")" \
    "$(field p99_ms "$out")" "$per_group" "$commit_ms" "$(field server_cpu_us_per_buy "$out")" \
    "$(field client_cpu_pct "$out")" "$(load)")")
  stop_server
fi

FANOUT_CLIENT="${FANOUT_CLIENT:-socket}"
case "$FANOUT_CLIENT" in
  socket) FANOUT_FLAGS=(--socket-time) ;;
  app) FANOUT_FLAGS=() ;;
  *) echo "FANOUT_CLIENT must be socket or app" >&2; exit 2 ;;
esac

fanout() {  # fanout LABEL VIEWER_PATH PUBLISHER_PATH
  local viewers="${FANOUT_VIEWERS:-10000}"
  echo "== fan-out: $1, $viewers viewers, latency to the $FANOUT_CLIENT (load $(load))"
  local out
  perf_start "fanout-${1%% *}"
  out="$("${PIN_CLIENT[@]}" "$LOADGEN" fanout --port "$PORT" --viewer-path "$2" --publisher-path "$3" \
         --viewers "$viewers" --events "${FANOUT_EVENTS:-20}" --burst "${FANOUT_BURST:-20}" \
         --rate "${FANOUT_RATE:-5}" --rate-seconds "${FANOUT_RATE_SECONDS:-5}" --threads "$THREADS" \
         --gather-us "${FANOUT_GATHER_US:-500}" "${FANOUT_FLAGS[@]}" --server-pid "$SERVER_PID")"
  echo "$out"
  local extra=""
  [[ "$1" == harvest* ]] && extra=", server queued->written p99 ≤ $(curl -s "http://127.0.0.1:$PORT/metrics" | awk '
      /^harvest_fanout_latency_seconds_bucket/ { split($1, a, "le=\""); sub(/"}/, "", a[2]); le[n] = a[2]; c[n++] = $2 }
      /^harvest_fanout_latency_seconds_count/ { total = $2 }
      END { for (i = 0; i < n; i++) if (c[i] >= 0.99 * total) { print le[i] " s"; exit } }')"
  ROWS+=("$(printf '| fan-out, %s, %s viewers, latency to the %s | p50 %s ms, p99 %s ms | all delivered %s ms | %s msg/s | burst of %s: %s msg/s, p99 %s ms | %s/s: p99 %s ms | server %s µs CPU/msg | load %s%s |' \
    "$1" "$viewers" "$FANOUT_CLIENT" "$(field p50_ms "$out")" "$(field p99_ms "$out")" "$(field all_delivered_p50_ms "$out")" \
    "$(field single_msgs_per_s "$out")" "${FANOUT_BURST:-20}" "$(field burst_msgs_per_s "$out")" \
    "$(field burst_p99_ms "$out")" "${FANOUT_RATE:-5}" "$(field rate_p99_ms "$out")" \
    "$(field server_cpu_us_per_msg "$out")" "$(load)" "$extra")")
}

if [[ -z "${SKIP_FANOUT:-}" ]]; then
  start_harvest
  json="$(api POST /api/streams '{"title":"fanout","farmer":"bench"}')"
  stream="$(jq -r .id <<<"$json")"
  token="$(jq -r .host_token <<<"$json")"
  fanout "harvest-server" "/ws?stream=$stream" "/ws?stream=$stream&token=$token"
  stop_server
  if [[ -z "${SKIP_WS:-}" ]]; then
    start_ws_peer
    fanout "npm ws 8" "/sub" "/pub"
    stop_server
  fi
  if [[ -z "${SKIP_FLOOR:-}" ]]; then
    start_floor
    fanout "floor (one send per viewer, nothing else)" "/sub" "/pub"
    stop_server
  fi
fi

echo
echo "server CPUs: ${SERVER_CPUS:-any}, loadgen CPUs: ${CLIENT_CPUS:-any}, loadgen threads: $THREADS," \
     "harvest-server --fanout-threads ${FANOUT_THREADS:-(default)}, fan-out latency to the $FANOUT_CLIENT"
for r in "${ROWS[@]}"; do echo "$r"; done

# 3. checkout: reservations, payments and expiries per second (checkout.sh; SKIP_CHECKOUT=1 leaves it out).
if [[ -z "${SKIP_CHECKOUT:-}" ]]; then
  echo
  "$ROOT/bench/commerce/checkout.sh" "$BIN"
fi
