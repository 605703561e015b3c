#!/usr/bin/env bash
# Installs every Debian and npm package Harvest Live needs, skipping what is
# already present. Safe to run repeatedly; runs as root on Debian bookworm.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DEBIAN_PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang clang-format libclang-rt-14-dev llvm
  # rebuilds compile only what changed (scripts/build.sh uses it when present)
  ccache
  # media
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  libsrt-openssl-dev
  # WebRTC (WHIP): webrtcbin's ICE agent
  gstreamer1.0-nice
  # rendering
  libcairo2-dev libpango1.0-dev libgdk-pixbuf-2.0-dev fonts-noto-cjk fonts-dejavu-core
  # product photos (decode, re-encode)
  libjpeg62-turbo-dev libpng-dev libwebp-dev
  # realtime and storage
  libwebsockets-dev nlohmann-json3-dev catch2 libsqlite3-dev libssl-dev
  # the PostgreSQL store (issue 19): the client library, and the server the tests start
  libpq-dev postgresql
  # accounts: argon2id password hashes
  libsodium-dev
  # lws on a libuv loop (epoll), see docs/architecture.md "Event loops"
  libwebsockets-evlib-uv libuv1-dev
  # the Redis bus between nodes (--bus redis://): hiredis on libuv; the tests start their own redis-server
  libhiredis-dev redis-server
  # test peers
  ffmpeg chromium curl
  # tests/faults: the publisher's network namespace and its shaping (ip netns, tc)
  iproute2
)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js may come from Debian or from elsewhere (nodesource ships npm inside
# nodejs and conflicts with Debian's npm): only install it when absent.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages (browser tests, websocket clients, web client tooling). Never downloads a browser:
# the browser tests drive Debian's /usr/bin/chromium.
for dir in "$ROOT/tests" "$ROOT/web-client"; do
  [[ -f "$dir/package.json" ]] || continue
  stamp="$dir/node_modules/.harvest-installed"
  if [[ ! -f "$stamp" || "$dir/package.json" -nt "$stamp" || ( -f "$dir/package-lock.json" && "$dir/package-lock.json" -nt "$stamp" ) ]]; then
    echo "install-deps: npm install in ${dir#$ROOT/}"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --silent)
    touch "$stamp"
  fi
done
echo "install-deps: done"
