#pragma once
// GET /api/me/dashboard: the signed-in farmer's shows with their sales, buyers, unique viewers
// and conversion, their products across the shows, and totals (commerce/dashboard.h); the
// admin token sees every show. The room counts and catalogs are copied on the loop; the
// orders are read and the dashboard built on the reader thread.
#include "api/common.h"
#include "api/reader.h"
#include "realtime/host_monitor.h"
#include "realtime/selling_desk.h"

namespace harvest::api {

void register_dashboard_routes(Router& router, StreamRegistry& streams, const AccessConfig& access, Reader& reader,
                               realtime::SellingDesk& selling, realtime::HostMonitor& monitor);

}  // namespace harvest::api
