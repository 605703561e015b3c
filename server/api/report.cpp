#include "api/report.h"

#include "commerce/report.h"
#include "core/log.h"
#include "realtime/route_checks.h"

namespace harvest::api {

void register_report_routes(Router& router, StreamRegistry& streams, const AccessConfig& access,
                            Reader& reader, realtime::SellingDesk& selling, realtime::HostMonitor& monitor,
                            const show::ExposureTimeline* exposures) {
  router.add("GET", "/api/streams/{id}/report",
             [manager = realtime::stream_manager(access, streams), &streams, &reader, &selling, &monitor,
              exposures](const HttpRequest& req) {
               if (auto refused = manager(req)) return *refused;
               const std::string& id = req.params.at("id");
               const StreamState* s = streams.find(id);
               commerce::ReportInput in;
               in.stream_id = id;
               if (exposures != nullptr) in.exposures = exposures->exposures(id);
               in.catalog = selling.products(id);
               in.viewers = s->viewers;
               in.peak_viewers = s->peak_viewers;
               in.peak_viewers_by_minute = monitor.peak_viewers_by_minute(id);
               const auto unique = monitor.unique_viewers(id);
               in.unique_viewers = unique.count;
               in.unique_viewers_capped = unique.capped;
               return answer_from_reader(reader, [in = std::move(in)](store::Store& store) mutable {
                 if (auto st = store.list_orders(in.stream_id, in.orders); !st) {
                   log::error("orders_not_read").kv("stream", in.stream_id).kv("reason", st.message());
                   return HttpResponse::error(500, "internal", "could not read the orders: " + st.message());
                 }
                 return HttpResponse::json(200, commerce::build_report(in).dump());
               });
             });
}

}  // namespace harvest::api
