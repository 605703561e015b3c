#!/usr/bin/env bash
# Installs what is missing, builds, and starts the demo: a live stream with product
# cards at http://localhost:8080 on the embedded defaults (SQLite, in-process bus).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" release
export HARVEST_ADMIN_TOKEN="${HARVEST_ADMIN_TOKEN:-demo-admin-token}"
echo "Harvest Live demo: http://localhost:8080  (admin token: $HARVEST_ADMIN_TOKEN)"
exec "$ROOT/build/server/harvest-server" --demo --data-dir "$ROOT/data" "$@"
