#pragma once
// GET /api/streams/{id}/report (host or admin): GMV and orders per product, per card exposure
// and per minute, peak viewers (commerce/report.h). The loop's state (exposures, catalog,
// viewer counts) is copied on the loop; the orders are read and the report built on the
// reader thread.
#include "api/common.h"
#include "api/reader.h"
#include "realtime/host_monitor.h"
#include "realtime/selling_desk.h"
#include "show/exposure_timeline.h"

namespace harvest::api {

// `exposures` nullptr: a report without exposures (no media link).
void register_report_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            Reader& reader, realtime::SellingDesk& selling, realtime::HostMonitor& monitor,
                            const show::ExposureTimeline* exposures);

}  // namespace harvest::api
