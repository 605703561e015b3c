#pragma once
// HTTP API for streams: create (admin), list, state. See docs/protocol.md.
#include <functional>
#include <string>

#include "api/common.h"

namespace harvest::api {

// The ports and host the URLs handed to farmers and viewers point at. Filled in by the App
// once the listeners know their (possibly picked) ports.
struct PublicEndpoints {
  std::string public_host;  // empty: taken from the request's Host header
  bool tls = false;
  int http_port = 0;
  int rtmp_port = 0;
  int srt_port = 0;
  bool whep = false;  // WebRTC playback offered (--whep-max-viewers > 0): whep_url is advertised
  std::string node_id;  // this node (the bus's id): where a live stream's ingest is, is told by id
};

// A farmer account's display name by id (for the `farmer` of the shows they create).
using AccountNames = std::function<std::string(const std::string& account_id)>;

// POST /api/streams (admin, or a signed-in farmer for themselves), GET /api/streams (live,
// upcoming, past), GET /api/me/streams, GET/PATCH /api/streams/{id}, POST
// /api/streams/{id}/key|host_token|end (the show's farmer or the admin).
void register_stream_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            const PublicEndpoints& endpoints, AccountNames account_name);

// Where a show is in its life: "live", "upcoming" (announced, not yet late), "ended" (its
// farmer ended it) or "offline".
const char* show_phase(const StreamState& s, int64_t now);

// The host name part of a Host header ("a.b:8080" -> "a.b", "[::1]:80" -> "[::1]").
std::string host_without_port(const std::string& host_header);

}  // namespace harvest::api
