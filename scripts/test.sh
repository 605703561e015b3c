#!/usr/bin/env bash
# Installs what is missing, builds the sanitized test build, and runs every test
# (unit, element, integration, browser, fuzz smoke runs) through ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install-deps.sh"
"$ROOT/scripts/build.sh" test
cd "$ROOT/build-test"
# Each test uses its own free ports and temp dirs, so they run in parallel.
exec ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@"
