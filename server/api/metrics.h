#pragma once
// GET /metrics: Prometheus text (streams, viewers, ingest, orders, fan-out, store).
#include "api/common.h"
#include "realtime/audience.h"

namespace harvest::api {

void register_metrics_route(Router& router, StreamRegistry& streams, const realtime::Audience& audience);

}  // namespace harvest::api
