#!/usr/bin/env bash
# The long fuzz campaign: every libFuzzer target in a build tree for SECONDS each, one after the
# other on one core, each from its checked-in seeds plus its own work corpus (kept between runs).
# Prints one line per target (executions, corpus, crashes); crash inputs stay in OUT/NAME/ — add
# each to tests/fuzz/corpus/NAME/regress_* once the parser is fixed.
#
#   bench/faults/fuzz_campaign.sh [BUILD_DIR=build-test] [SECONDS=240] [OUT=/tmp/harvest-fuzz]
#
# It never fails on what it finds (a benchmark, not a test); the exit code is 0 unless a target
# is missing.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-test}
seconds=${2:-240}
out=${3:-/tmp/harvest-fuzz}
fuzz_dir=$build/tests/fuzz
[ -d "$fuzz_dir" ] || { echo "no fuzz targets in $fuzz_dir (configure with -DHARVEST_FUZZ=ON)" >&2; exit 2; }

printf '%-22s %12s %8s %8s\n' target execs corpus crashes
for bin in "$fuzz_dir"/fuzz_*; do
  [ -x "$bin" ] && [ -f "$bin" ] || continue
  name=$(basename "$bin")
  work=$out/$name/corpus
  mkdir -p "$work"
  log=$out/$name/log.txt
  # -artifact_prefix keeps crashes out of the build tree; -fork would need a second core.
  "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/$name/" "$work" "$root/tests/fuzz/corpus/$name" >"$log" 2>&1
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  corpus=$(find "$work" -type f | wc -l)
  crashes=$(find "$out/$name" -maxdepth 1 \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  printf '%-22s %12s %8s %8s\n' "$name" "${execs:-?}" "$corpus" "$crashes"
done
