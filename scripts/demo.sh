#!/usr/bin/env bash
# Installs what is missing, builds, and starts the demo: a live stream with product
# cards at http://localhost:8080 on the embedded defaults (SQLite, in-process bus). The same
# port speaks https with a certificate made for this machine (--tls-self-signed), so a phone
# on the same Wi-Fi can open the broadcaster page and go live; the server prints every link.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" release
export HARVEST_ADMIN_TOKEN="${HARVEST_ADMIN_TOKEN:-demo-admin-token}"
exec "$ROOT/build/server/harvest-server" --demo --tls-self-signed --bind 0.0.0.0 --data-dir "$ROOT/data" "$@"
