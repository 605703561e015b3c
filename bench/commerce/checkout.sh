#!/usr/bin/env bash
# Checkout benchmarks (docs/benchmarks.md "Checkout"), called by run.sh or on its own:
#   1. reservations/s: durable buys over websockets (every buy is a reservation with a pay_by)
#   2. payments/s: signed payment notifications (paygen) for half of those orders, each answered
#      once the order is paid on disk
#   3. expiries/s: the server is stopped with the other half reserved, started again after their
#      window has passed, and expires them all at once; timed by the server (its orders_expired
#      log line: from the tick that started them to the last one durable)
# Prints figures; never fails on time.
#
# Usage: bench/commerce/checkout.sh [path/to/harvest-server]
# Environment: BUY_SECONDS [3] BUY_CONNECTIONS [64] BUY_WINDOW [16]
#              PAY_CONNECTIONS [256] PAY_MAX [20000] (notifications sent at most)
#              WINDOW_S [40] (the payment window: the payments must be done within it)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/server/harvest-server}"
TOOLS="$(dirname "$(dirname "$BIN")")/bench/commerce"
[[ -x "$BIN" && -x "$TOOLS/loadgen" && -x "$TOOLS/paygen" ]] || { echo "build the release first: scripts/build.sh release" >&2; exit 2; }
ADMIN=bench-admin
SECRET=bench-payment-secret-0123456789
WINDOW_S="${WINDOW_S:-40}"
WORK="$(mktemp -d /tmp/harvest-checkout-bench-XXXXXX)"
SERVER_PID=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  : >"$WORK/server.log"
  HARVEST_ADMIN_TOKEN=$ADMIN HARVEST_WS_MESSAGE_RATE=1000000 HARVEST_WS_MESSAGE_BURST=1000000 \
    "$BIN" --http-port "${PORT:-0}" --rtmp-port 0 --srt-port 0 --bind 127.0.0.1 --data-dir "$WORK/data" \
      --payment-window "${WINDOW_S}s" --payment-secret "$SECRET" \
      --payment-url 'https://pay.example.com/cashier?order={order_id}' >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 600); do
    PORT="$(grep -oP 'http_port=\K[0-9]+' "$WORK/server.log" | head -1 || true)"
    [[ -n "$PORT" ]] && return 0
    sleep 0.05
  done
  echo "server did not start" >&2; tail -5 "$WORK/server.log" >&2; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; }
api() { curl -sf -X "$1" -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' ${3:+--data "$3"} "http://127.0.0.1:$PORT$2"; }
changes() { curl -s "http://127.0.0.1:$PORT/metrics" | awk -v s="harvest_order_changes_total{to=\"$1\"}" '$1 == s { print $2 }'; }
field() { grep -oP "(^| )$1=\K[^ ]+" <<<"$2" || echo "-"; }
load() { cut -d' ' -f1 /proc/loadavg; }

mkdir -p "$WORK/data"
start_server
stream="$(api POST /api/streams '{"title":"checkout bench","farmer":"bench"}' | jq -r .id)"
api PUT "/api/streams/$stream/products" \
  '{"products":[{"id":"bench","title":"隰县玉露香梨","price":3990,"currency":"CNY","stock":100000000}]}' >/dev/null
reserved_at=$(date +%s.%N)
echo "== reservations: ${BUY_CONNECTIONS:-64} connections x ${BUY_WINDOW:-16} in flight, ${BUY_SECONDS:-3} s (load $(load))"
buys="$("$TOOLS/loadgen" buys --port "$PORT" --stream "$stream" --connections "${BUY_CONNECTIONS:-64}" \
        --window "${BUY_WINDOW:-16}" --seconds "${BUY_SECONDS:-3}" --server-pid "$SERVER_PID")"
echo "$buys"
reserved="$(field confirmed "$buys")"
# Order ids are 1..reserved in a new store: pay the first part, leave the rest to expire.
to_pay=$(( reserved / 2 < ${PAY_MAX:-20000} ? reserved / 2 : ${PAY_MAX:-20000} ))
echo "== payments: $to_pay notifications over ${PAY_CONNECTIONS:-256} connections (load $(load))"
pays="$("$TOOLS/paygen" --port "$PORT" --secret "$SECRET" --first 1 --last "$to_pay" --amount 3990 \
        --connections "${PAY_CONNECTIONS:-256}")"
echo "$pays"
paid="$(changes paid)"
expired_early="$(changes expired)"
stop_server
if [[ -n "$expired_early" && "$expired_early" != 0 ]]; then
  echo "warning: $expired_early reservations expired before the restart (the payments outlasted WINDOW_S=$WINDOW_S)" >&2
fi

to_expire=$(( reserved - to_pay ))
# Wait out the window (a bench may sleep: nothing is synchronised on it), then restart.
wait_s="$(awk -v a="$reserved_at" -v w="$WINDOW_S" -v now="$(date +%s.%N)" 'BEGIN { d = a + w + 1 - now; print (d > 0 ? d : 0) }')"
echo "== expiries: $to_expire reservations past their window; restart after ${wait_s}s"
sleep "$wait_s"
started=$(date +%s.%N)
start_server
# The server logs each expiry burst: how many, and the time from the tick that started them to
# the last one on disk (orders_expired count=N durable_ms=T).
deadline=$(( $(date +%s) + 120 ))
expired=0
while (( $(date +%s) < deadline )); do
  expired="$( (grep -oP 'orders_expired .*count=\K[0-9]+' "$WORK/server.log" || true) | awk '{ s += $1 } END { print s + 0 }')"
  if (( expired >= to_expire )); then break; fi
  sleep 0.1
done
done_at=$(date +%s.%N)
stop_server
durable_ms="$( (grep -oP 'orders_expired .*durable_ms=\K[0-9]+' "$WORK/server.log" || true) | sort -n | tail -1)"
exp_rate="$(awk -v n="$expired" -v ms="${durable_ms:-0}" 'BEGIN { if (ms > 0) printf "%.0f", 1000 * n / ms; else print "-" }')"
restart_s="$(awk -v a="$started" -v b="$done_at" 'BEGIN { printf "%.2f", b - a }')"

echo
echo "| checkout step | figure | detail |"
echo "|---|---|---|"
echo "| reservations (durable buys) | $(field buys_per_s "$buys") /s | ack p50 $(field p50_ms "$buys") ms, p99 $(field p99_ms "$buys") ms, $reserved reserved |"
echo "| payments (signed notifications) | $(field payments_per_s "$pays") /s | answer p50 $(field p50_ms "$pays") ms, p99 $(field p99_ms "$pays") ms, ${PAY_CONNECTIONS:-256} connections, $paid paid |"
echo "| expiries after a restart | $exp_rate /s | $expired of $to_expire expired, burst on disk in ${durable_ms:-?} ms; restart to the last ${restart_s} s |"
echo "load after: $(load)"
