#!/bin/sh
# productoverlay on its own: a test picture with three product cards (CJK
# titles, prices in fen, stock, "N bought", a sold-out badge and a flash-sale
# countdown, an origin line and the QR of a trace page), shown in a window.
#
#   GST_PLUGIN_PATH=build/plugins/livecommerce samples/pipelines/productoverlay-demo.sh
#
# SINK overrides the sink (e.g. SINK=fakesink for a headless run), NUM_BUFFERS
# the length (default: until interrupted), WIDTH/HEIGHT the frame (try 720x1280
# for a portrait phone picture).
set -eu
SINK="${SINK:-autovideosink}"
NUM_BUFFERS="${NUM_BUFFERS:--1}"
WIDTH="${WIDTH:-1280}"
HEIGHT="${HEIGHT:-720}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/productoverlay-demo-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# A product picture made on the spot, so the demo needs no other files.
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=pinwheel ! video/x-raw,width=256,height=256 \
  ! videoconvert ! pngenc ! filesink location="$tmp/product.png"

SCENE='{"cards":[
  {"product_id":"pear-yulu","slot":"bottom","title":"隰县玉露香梨 5斤装","price":3990,
   "image":"'"$tmp"'/product.png","stock":120,"sold":35,"sale_ends_at":95.0,
   "origin_place":"隰县","harvest_date":"2026-09-12","trace_url":"http://localhost:8080/trace/XJ-2026-0912"},
  {"product_id":"crab-suqian","slot":"right","title":"宿迁大闸蟹 8只礼盒","price":19900,"stock":0,"sold":512},
  {"product_id":"hotpot-base","slot":"top","title":"重庆老火锅底料","price":2550,"sold":1200}]}'
# gst-launch syntax: the value in double quotes, inner quotes escaped.
SCENE_ARG=$(printf '%s' "$SCENE" | tr '\n' ' ' | sed 's/"/\\"/g')

gst-launch-1.0 -e videotestsrc num-buffers="$NUM_BUFFERS" pattern=smpte \
  ! "video/x-raw,width=$WIDTH,height=$HEIGHT,framerate=30/1,format=I420" \
  ! productoverlay "scene=\"$SCENE_ARG\"" \
  ! videoconvert ! $SINK
