#pragma once
// WHIP ingest routes (RFC 9725), for a browser or an encoder publishing over WebRTC:
//   POST    /whip/{id}            Bearer STREAM_KEY, application/sdp offer -> 201, Location, SDP answer
//   POST    /whip/{id}?probe=1    the same, as an uplink check: media dropped, stream untouched
//   DELETE  /whip/{id}/{session}  ends the session                         -> 200 (404 if unknown)
//   OPTIONS on both               CORS preflight                           -> 204
// All candidates are gathered before the answer, so there is no trickle ICE: PATCH answers 405.
#include <functional>
#include <string>
#include <vector>

#include "api/common.h"
#include "media/hls/ll_hls_registry.h"
#include "media/webrtc/whep_playback.h"
#include "media/webrtc/whip_ingest.h"

namespace harvest::api {

// The ICE servers handed to publishers in `Link: <...>; rel="ice-server"` headers (RFC 9725
// 4.4), e.g. "stun:stun.example.net:3478", "turn:user:secret@turn.example.net:3478".
struct WhipIceServers {
  std::string stun;  // stun:host:port, or empty
  std::string turn;  // turn:user:pass@host:port, or empty
};

// The Link header values for `servers` (none when both are empty).
std::vector<std::string> ice_server_links(const WhipIceServers& servers);

// `whip` gives the WHIP ingest once media runs (nullptr before: 503).
void register_whip_routes(Router& router, std::function<media::webrtc::WhipIngest*()> whip, WhipIceServers ice = {});

// WHEP playback routes (draft-ietf-wish-whep), no key (anyone may watch a live stream):
//   POST    /whep/{id}            application/sdp recvonly offer -> 201, Location, SDP answer
//                                 400 bad_sdp / no_usable_codec, 404 not_found, 409 offline,
//                                 503 too_many_viewers + Retry-After + Link to the LL-HLS (when
//                                 served) and HLS playlists: the viewers WebRTC cannot take
//   DELETE  /whep/{id}/{session}  ends the viewer                          -> 200 (404 if unknown)
//   OPTIONS on both               CORS preflight                           -> 204
// `whep` gives the playback once media runs (nullptr before: 503); `ll`: the LL-HLS renditions.
void register_whep_routes(Router& router, std::function<media::webrtc::WhepPlayback*()> whep, WhipIceServers ice = {},
                          const media::hls::LlHlsRegistry* ll = nullptr);

}  // namespace harvest::api
