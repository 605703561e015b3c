#pragma once
// WHIP ingest routes (RFC 9725), for a browser or an encoder publishing over WebRTC:
//   POST    /whip/{id}            Bearer STREAM_KEY, application/sdp offer -> 201, Location, SDP answer
//   DELETE  /whip/{id}/{session}  ends the session                         -> 200 (404 if unknown)
//   OPTIONS on both               CORS preflight                           -> 204
// All candidates are gathered before the answer, so there is no trickle ICE: PATCH answers 405.
#include <functional>

#include "api/common.h"
#include "media/webrtc/whip_ingest.h"

namespace harvest::api {

// `whip` gives the WHIP ingest once media runs (nullptr before: 503).
void register_whip_routes(Router& router, std::function<media::webrtc::WhipIngest*()> whip);

}  // namespace harvest::api
