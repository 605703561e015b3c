#pragma once
// What every REST resource file shares: the HTTP types it answers with. The checks most routes
// start with are realtime/route_checks.h's (admin_only, stream_manager), built once per route.
// Route handlers run on the loop thread (HttpServer's shard 0).
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

}  // namespace harvest::api
