#pragma once
// HTTP routes of the commerce side (DESIGN.md "HTTP"): the catalog, orders (JSON/CSV), the
// report, and GET /metrics in Prometheus text format.
#include "commerce/exposure_timeline.h"
#include "core/stream_registry.h"
#include "realtime/access.h"
#include "realtime/rooms.h"
#include "realtime/router.h"
#include "store/store.h"

namespace harvest::realtime {

void register_commerce_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                              RoomService& rooms, store::Store& store,
                              const commerce::ExposureTimeline* exposures = nullptr);

// Parses {"products": [...]} of PUT /api/streams/{id}/products. Returns an error sentence or "".
std::string parse_catalog(const std::string& body, std::vector<commerce::Product>& out);

}  // namespace harvest::realtime
