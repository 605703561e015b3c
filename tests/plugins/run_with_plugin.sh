#!/bin/sh
# Runs a GStreamer command line tool against the freshly built plugin:
#   run_with_plugin.sh PLUGIN_DIR SANITIZER_RUNTIME COMMAND [ARGS...]
# Each run gets its own registry in a temp dir (parallel ctests never share or
# race on one) and, in the sanitized test build, the ASan runtime preloaded so
# the uninstrumented tool can load the instrumented plugin.
set -eu
plugin_dir=$1
sanitizer_runtime=$2
shift 2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/harvest-gst-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GST_PLUGIN_PATH="$plugin_dir"
export GST_REGISTRY="$tmp/registry.bin"
export ASAN_OPTIONS=detect_leaks=0
if [ -n "$sanitizer_runtime" ]; then
  export LD_PRELOAD="$sanitizer_runtime"
fi
status=0
"$@" || status=$?
exit "$status"
