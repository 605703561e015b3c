#!/usr/bin/env bash
# Fan-out across nodes (issue 19): one chat event to 10,000 viewers, latency to the socket,
#   1. one node (--bus local), every viewer on it;
#   2. one node on a Redis bus with no second node (the cost of publishing every event);
#   3. two nodes on one Redis bus, the viewers split half and half, the publisher (the host)
#      on node A: half the viewers hear the event through Redis and node B.
# Real redis-server (Debian's) on a free port, nothing saved. Both nodes run the same stream:
# node A makes it, node B starts on a copy of A's data dir (ids and host-token secret alike).
#   bench/commerce/fanout_nodes.sh [path/to/harvest-server]    (release build: scripts/build.sh release)
# Environment: VIEWERS [10000], FANOUT_EVENTS [20], FANOUT_BURST [20], LOADGEN_THREADS [1].
set -Eeuo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/server/harvest-server}"
LOADGEN="${LOADGEN:-$(dirname "$(dirname "$BIN")")/bench/commerce/loadgen}"
[[ -x "$BIN" && -x "$LOADGEN" ]] || { echo "build the release first: scripts/build.sh release" >&2; exit 2; }
command -v redis-server >/dev/null || { echo "redis-server is missing: scripts/install-deps.sh" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"
ADMIN=bench-admin
VIEWERS="${VIEWERS:-10000}"
THREADS="${LOADGEN_THREADS:-1}"
WORK="$(mktemp -d /tmp/harvest-nodes-XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_log() {  # wait_log FILE PERL-REGEX -> the first match
  for _ in $(seq 300); do
    local m; m="$(grep -oP "$2" "$1" | head -1 || true)"
    [[ -n "$m" ]] && { echo "$m"; return 0; }
    sleep 0.1
  done
  echo "no '$2' in $1:" >&2; tail -20 "$1" >&2; exit 1
}
# start_node NAME DATA_DIR [flags...] -> sets PID_<NAME> and PORT_<NAME>
start_node() {
  local name="$1" dir="$2"; shift 2
  HARVEST_ADMIN_TOKEN=$ADMIN HARVEST_WS_MESSAGE_RATE=1000000 HARVEST_WS_MESSAGE_BURST=1000000 \
  HARVEST_WS_CHAT_RATE=1000000 HARVEST_WS_CHAT_BURST=1000000 \
    "$BIN" --http-port 0 --rtmp-port 0 --srt-port 0 --bind 127.0.0.1 --data-dir "$dir" "$@" \
      >"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  printf -v "PID_$name" '%s' "$pid"
  printf -v "PORT_$name" '%s' "$(wait_log "$WORK/$name.log" 'http_port=\K[0-9]+')"
}
stop_nodes() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
}
field() { grep -oP "(^| )$1=\K[^ ]+" <<<"$2" || echo "-"; }
load() { cut -d' ' -f1 /proc/loadavg; }

REDIS_PORT="$(free_port)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS_REDIS=$!
trap 'cleanup; kill $PIDS_REDIS 2>/dev/null || true' EXIT
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
BUS="redis://127.0.0.1:$REDIS_PORT"

# The stream, made once on A's data dir, copied for B.
start_node A "$WORK/a"
json="$(curl -sf -X POST -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' \
        --data '{"title":"fanout","farmer":"bench"}' "http://127.0.0.1:$PORT_A/api/streams")"
stream="$(jq -r .id <<<"$json")"
token="$(jq -r .host_token <<<"$json")"
stop_nodes
cp -r "$WORK/a" "$WORK/b"

declare -a ROWS
run() {  # run LABEL [loadgen flags...]
  local label="$1"; shift
  echo "== $label, $VIEWERS viewers (load $(load))"
  local out
  out="$("$LOADGEN" fanout --port "$PORT_A" --viewer-path "/ws?stream=$stream" \
         --publisher-path "/ws?stream=$stream&token=$token" --viewers "$VIEWERS" \
         --events "${FANOUT_EVENTS:-20}" --burst "${FANOUT_BURST:-20}" --threads "$THREADS" \
         --gather-us 500 --socket-time --server-pid "$PID_A" "$@")"
  echo "$out"
  ROWS+=("$(printf '| %s | p50 %s ms, p99 %s ms | all delivered %s ms | burst %s msg/s, p99 %s ms | %s µs CPU/msg (all nodes) | load %s |' \
    "$label" "$(field p50_ms "$out")" "$(field p99_ms "$out")" "$(field all_delivered_p50_ms "$out")" \
    "$(field burst_msgs_per_s "$out")" "$(field burst_p99_ms "$out")" "$(field server_cpu_us_per_msg "$out")" "$(load)")")
}

start_node A "$WORK/a"
run "one node, --bus local"
stop_nodes

start_node A "$WORK/a" --bus "$BUS"
wait_log "$WORK/A.log" 'event=bus_\Kup' >/dev/null
run "one node, --bus redis:// (no second node)"
stop_nodes

start_node A "$WORK/a" --bus "$BUS"
start_node B "$WORK/b" --bus "$BUS"
wait_log "$WORK/A.log" 'event=bus_\Kup' >/dev/null
wait_log "$WORK/B.log" 'event=bus_\Kup' >/dev/null
run "two nodes on Redis, viewers split, host on A" --second-port "$PORT_B" --second-server-pid "$PID_B"
stop_nodes

echo
echo "fan-out across nodes, latency to the socket, loadgen threads per node: $THREADS"
for r in "${ROWS[@]}"; do echo "$r"; done
