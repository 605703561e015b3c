#pragma once
// GET /hls/{id}/{file...}: the playlists and segments under <hls_root>/<id>/, served by the
// HTTP server from disk. Playlists are never cached; segments (unique names) are immutable.
// GET /hls/{id}/replay/{session}/{file}: a replay, from <replay_root>/<id>/<session>/ (kept
// apart from <hls_root>, which is emptied at every start).
#include <string>

#include "api/common.h"

namespace harvest::media::hls {
class LlHlsRegistry;
}

namespace harvest::api {

// GET /hls/{id}/ll.m3u8: the LL-HLS playlist of a live stream (from `ll`, in memory), with
// blocking reload (_HLS_msn/_HLS_part: answered once the part is listed, 503 after three target
// durations, 400 when malformed or more than two segments ahead). A part named in the
// preload hint and asked for before it exists is answered once it does. `ll` may be null (no
// LL-HLS: ll.m3u8 is a 404).
void register_hls_routes(Router& router, std::string hls_root, std::string replay_root,
                         media::hls::LlHlsRegistry* ll = nullptr);

// True if `file` is a safe relative path of playlist/segment names: [A-Za-z0-9._-] segments
// separated by '/', no "..", ending in .m3u8, .ts, .m4s or .mp4.
bool is_servable_hls_path(const std::string& file);

}  // namespace harvest::api
