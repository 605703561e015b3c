#!/usr/bin/env bash
# Configures and builds one of the project's two builds:
#   scripts/build.sh release   -> build/         (g++, optimised; what the demo runs)
#   scripts/build.sh test      -> build-test/    (clang, ASan+UBSan, -Werror, libFuzzer targets)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kind="${1:-release}"
jobs="$(nproc)"

case "$kind" in
  release)
    dir="$ROOT/build"
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
          -DHARVEST_TESTS=OFF -DHARVEST_BENCH=ON >/dev/null
    ;;
  test)
    dir="$ROOT/build-test"
    CC=clang CXX=clang++ cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
          -DHARVEST_WERROR=ON -DHARVEST_SANITIZE=ON -DHARVEST_FUZZ=ON \
          -DHARVEST_TESTS=ON -DHARVEST_BENCH=OFF >/dev/null
    ;;
  *)
    echo "usage: scripts/build.sh [release|test]" >&2
    exit 2
    ;;
esac
cmake --build "$dir" -j "$jobs"
