#pragma once
// GET /metrics: Prometheus text (streams, viewers, ingest, orders, fan-out, store).
#include "api/common.h"
#include "realtime/audience.h"

namespace harvest::api {

// GET /metrics: Prometheus text for anyone; money (GMV) only with the admin token.
void register_metrics_route(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            const realtime::Audience& audience);

}  // namespace harvest::api
