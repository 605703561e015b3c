#pragma once
// What every REST resource file shares: the HTTP types it answers with and the checks most
// routes start with. Route handlers run on the loop thread (HttpServer's shard 0).
#include <cstdint>
#include <optional>

#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/router.h"

namespace harvest::api {

using realtime::AccessConfig;
using realtime::HttpRequest;
using realtime::HttpResponse;
using realtime::identify;
using realtime::Identity;
using realtime::Role;
using realtime::Router;

inline int64_t now_s() { return now_ms() / 1000; }

// 404 when the stream is unknown, 401 unless the caller's token manages it (host of the
// stream or admin); nullopt when the route may go on.
std::optional<HttpResponse> refuse_unless_manager(StreamRegistry& streams, const AccessConfig& access,
                                                  const HttpRequest& req);

}  // namespace harvest::api
