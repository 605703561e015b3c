#!/usr/bin/env bash
# Configures and builds one of the project's two builds:
#   scripts/build.sh release   -> build/         (g++, optimised; what the demo runs)
#   scripts/build.sh test      -> build-test/    (clang, ASan+UBSan, -Werror, libFuzzer targets)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-release}"
jobs="$(nproc)"

# ccache when installed: a rebuild, or another clone built on a machine that built before (CI's
# fresh clone), compiles only what changed. Paths under the clone are hashed relative to it.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

case "$kind" in
  release)
    dir="$ROOT/build"
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DHARVEST_TESTS=OFF -DHARVEST_BENCH=ON "${launcher[@]}" >/dev/null
    ;;
  test)
    dir="$ROOT/build-test"
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
          -DHARVEST_WERROR=ON -DHARVEST_SANITIZE=ON -DHARVEST_FUZZ=ON \
          -DHARVEST_TESTS=ON -DHARVEST_BENCH=OFF "${launcher[@]}" >/dev/null
    ;;
  *)
    echo "usage: scripts/build.sh [release|test]" >&2
    exit 2
    ;;
esac
cmake --build "$dir" -j "$jobs"
